/**
 * ADB-over-TCP endpoints (`adb:HOST:PORT`, `--adb HOST:PORT`), probed like fastboot TCP endpoints. This
 * computer's ADB key pair lives in `<home>/adb/` (made on first use by the ADB client), so a phone that was
 * told "Always allow from this computer" stays authorized for every Flashline command on it.
 */
import { join } from 'node:path';
import { flashlineHome } from '../common/paths.js';
import type { AdbConnection } from '../protocol/adb/contract.js';
import type { DeviceInfo } from './device-info.js';
import { type EndpointSourceOptions, endpointSource } from './endpoint-source.js';
import type { AdbEndpoint } from './identify-adb.js';
import type { DeviceSource } from './source.js';

export interface AdbOpenOptions {
  readonly keyDir: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  readonly authWaitMs?: number;
}

/** How an ADB connection is opened from a device id (main/protocol/adb's `openAdb`; tests pass fakes). */
export type AdbOpener = (id: string, options: AdbOpenOptions) => Promise<AdbConnection>;

/** Where this computer's ADB key pair is kept. */
export function adbKeyDir(home: string = flashlineHome()): string {
  return join(home, 'adb');
}

export interface AdbEndpointSpec {
  readonly host: string;
  readonly port: number;
}

export function adbEndpoint(
  spec: AdbEndpointSpec,
  open: AdbOpener,
  connection: DeviceInfo['connection'] = 'tcp',
  keyDir: string = adbKeyDir(),
): AdbEndpoint {
  const address = `${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}`;
  const id = `adb:${address}`;
  return {
    kind: 'adb',
    id,
    connection,
    address,
    open: (o) => open(id, { keyDir, ...o }),
  };
}

/** Configured ADB endpoints (`--adb HOST:PORT`, station options). */
export function adbSource(
  specs: readonly AdbEndpointSpec[],
  open: AdbOpener,
  opts: EndpointSourceOptions = {},
): DeviceSource {
  return endpointSource(
    specs.map((s) => adbEndpoint(s, open)),
    { name: 'adb', ...opts },
  );
}
