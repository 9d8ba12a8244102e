/**
 * What a ZTE router becomes after `AT+ZCDRUN=E` (or the DIAG switch): with an ADB address, first **ZTE
 * download mode** — an ADB device (19d2:0016 on a real unit) that answers `getprop` and takes
 * `adb reboot edl` — and then, or at once without an ADB address, a **bricked Qualcomm device in EDL**
 * (`qualcomm-edl`) on a fresh pty at `<dir>/edl/pty/pty-host`. Rescued and reset, that device boots as the
 * reference fastboot device (same serial) through `bootFastboot`. Used by `flashline virtual-device --profile
 * zte-mifi` and the tests, as `ZteMifiOptions.onDownloadMode`.
 */

import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { AdbDeviceHandler } from '../adb/device-handler.js';
import { serveAdb } from '../adb/serve-adb.js';
import { type BootedDevice, EdlDeviceHandle } from '../edl/edl-device.js';
import { TcpListener } from '../tcp-listener.js';
import type { ModemIdentityConfig } from './at-responder.js';

export interface ZteAfterSwitchOptions {
  readonly dir: string;
  readonly identity: ModemIdentityConfig;
  /** ZTE download mode's ADB address; without it the router goes straight to EDL. */
  readonly adb?: { readonly host: string; readonly port: number };
  /** Starts the fastboot device a rescued unit boots into (the reference profile, same serial). */
  readonly bootFastboot: (serial: string) => Promise<BootedDevice>;
  readonly storage?: 'emmc' | 'ufs';
  /** Told each step: `zte-download-mode` (adb address), `edl` (pty, serial, OEM PK hash), `booted`. */
  readonly report: (event: Record<string, unknown>) => void;
}

/** The EDL pty's path, known before the switch so a station can be told to watch it. */
export function zteEdlPtyPath(dir: string): string {
  return join(dir, 'edl', 'pty', 'pty-host');
}

export class ZteAfterSwitch {
  #adb: TcpListener | null = null;
  #sockets = new Set<Socket>();
  bricked: EdlDeviceHandle | null = null;

  constructor(readonly options: ZteAfterSwitchOptions) {}

  /** The router left its normal mode (`via` the AT or DIAG switch). */
  async onDownloadMode(via: 'at' | 'diag'): Promise<void> {
    const { adb, identity } = this.options;
    if (!adb || via === 'diag') return this.#brick(via);
    const handler: AdbDeviceHandler = {
      state: () => 'device',
      bannerProperties: () => ({ 'ro.product.device': identity.model, 'ro.product.model': identity.model }),
      shell: (command) => {
        if (command.trim() !== 'getprop')
          return { stdout: '', stderr: `${command}: not found\n`, exitCode: 127 };
        const props: Record<string, string> = {
          'ro.serialno': identity.imei,
          'ro.product.name': identity.model,
          'ro.product.device': identity.model,
          'ro.product.model': identity.model,
          'ro.product.manufacturer': identity.manufacturer,
        };
        return {
          stdout: Object.entries(props)
            .map(([k, v]) => `[${k}]: [${v}]\n`)
            .join(''),
          exitCode: 0,
        };
      },
      reboot: (target) => {
        if (target !== 'edl') throw new Error(`ZTE download mode reboots only to edl, not to '${target}'`);
      },
    };
    this.#adb = new TcpListener(adb.host, adb.port, (socket) => {
      this.#sockets.add(socket);
      void serveAdb(socket, handler, { serial: identity.imei }).then(async (end) => {
        this.#sockets.delete(socket);
        if (end.reason === 'reboot' && end.target === 'edl') await this.#brick('adb');
      });
    });
    await this.#adb.open();
    this.options.report({ event: 'zte-download-mode', via, adb: `adb:${this.#adb.hostPort}` });
  }

  async #brick(via: 'at' | 'diag' | 'adb'): Promise<void> {
    if (this.bricked) return;
    await this.#closeAdb();
    const { dir, report } = this.options;
    const bricked = await EdlDeviceHandle.start({
      stateDir: join(dir, 'edl'),
      storage: this.options.storage ?? 'ufs',
      tcp: false,
      pty: true,
      bootTo: async ({ serial }) => {
        const booted = await this.options.bootFastboot(serial);
        report({ event: 'booted', mode: 'fastboot', address: booted.address, serial });
        return booted;
      },
    });
    this.bricked = bricked;
    report({
      event: 'download-mode',
      via,
      mode: 'edl',
      pty: bricked.ptyPath,
      serial: bricked.serialNumber.toString(16).padStart(8, '0'),
      oemPkHash: Buffer.from(bricked.oemPkHash).toString('hex'),
    });
  }

  async #closeAdb(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await this.#adb?.close();
    this.#adb = null;
  }

  async stop(): Promise<void> {
    await this.#closeAdb();
    await this.bricked?.stop();
  }
}
