/**
 * The rescue's ports over the real package reader, EDL stream links and device identification: what the
 * CLI and the station wire in. Trust comes from the usual trust directories (or the given ones); encrypted
 * rescue packages are opened with the station's keys (<home>/station-keys/).
 */
import { flashlineHome } from '../../common/paths.js';
import { probeAnyEndpoint } from '../../devices/endpoint-source.js';
import { identifyIds } from '../../devices/named-endpoints.js';
import { loadTrustStore, openPackage } from '../../package/index.js';
import { openLink, openStreamLink, parseDeviceId } from '../../transport/index.js';
import { loadStationKeys } from '../adapters/package.js';
import type { RescueDeps } from './run.js';

export interface RescueDepsOptions {
  readonly trustDirs?: readonly string[];
  readonly home?: string;
  readonly decryptionKeyFiles?: readonly string[];
  /** Per probe of the come-back address. */
  readonly identifyTimeoutMs?: number;
}

export function defaultRescueDeps(options: RescueDepsOptions = {}): RescueDeps {
  return {
    async openPackage(path, signal) {
      const trust = await loadTrustStore(options.trustDirs ? { dirs: options.trustDirs } : {});
      const decryptionKeys = await loadStationKeys(
        options.home ?? flashlineHome(),
        options.decryptionKeyFiles,
      );
      return openPackage(path, {
        trust,
        kind: 'qualcomm-rescue',
        decryptionKeys,
        ...(signal ? { signal } : {}),
      });
    },
    openLink: (deviceId, signal) => openStreamLink(deviceId, signal ? { signal } : {}),
    async probe(deviceId, signal) {
      const timeoutMs = options.identifyTimeoutMs ?? 3000;
      const kind = parseDeviceId(deviceId).kind;
      // identifyIds leaves USB ids to USB discovery; after a rescue the id is all there is, so the fastboot
      // interface of the device that re-enumerated under it is probed directly.
      if (kind === 'usb' || kind === 'usb-ids')
        return probeAnyEndpoint(
          {
            id: deviceId,
            connection: 'usb',
            address: deviceId,
            open: (s) => openLink(deviceId, { signal: s }),
          },
          timeoutMs,
          signal,
        );
      const [info] = await identifyIds([deviceId], timeoutMs, signal ? { signal } : {});
      return info!;
    },
  };
}
