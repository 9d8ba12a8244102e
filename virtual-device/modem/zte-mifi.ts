/**
 * `--profile zte-mifi`: a ZTE-like MiFi router in normal mode, with an AT port and a Qualcomm DIAG port on
 * ptys. `AT+ZCDRUN=E` (ZTE's download-mode command) or the DIAG EDL switch make it leave: both ports go away,
 * as the USB device re-enumerates, and it reports that it is in download mode.
 *
 * Simplification: a real ZTE unit goes from `AT+ZCDRUN=E` into ZTE download mode (19d2:0016, with ADB) and
 * needs `adb reboot edl` for Qualcomm EDL; this device goes straight to EDL. `onDownloadMode` is where the
 * bricked profile takes over: `flashline virtual-device --profile zte-mifi` starts a `qualcomm-edl` device
 * there, serving Sahara on a fresh pty (main/cli/commands/virtual-modem.ts).
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { type AtFault, AtResponder, type ModemIdentityConfig } from './at-responder.js';
import { DiagResponder } from './diag-responder.js';
import { ModemPtyPort } from './pty-port.js';

/** A ZTE-like identity; the IMEI's last digit is its Luhn check digit. */
export const ZTE_MIFI_IDENTITY: ModemIdentityConfig = {
  manufacturer: 'ZTE CORPORATION',
  model: 'MF920V',
  revision: 'BD_MF920VV1.0.0B05',
  imei: '866123045678904',
};

export interface ZteMifiOptions {
  /** Where the pty links live (`at/pty-host`, `diag/pty-host`). */
  readonly dir: string;
  readonly identity?: ModemIdentityConfig;
  readonly atFault?: AtFault;
  readonly urc?: boolean;
  /** Called once the ports are gone; a bricked (qualcomm-edl) profile can start here. */
  readonly onDownloadMode?: (via: 'at' | 'diag') => Promise<void>;
}

/** How long the reply to a switch may take to reach the host before the ports vanish. */
const LEAVE_FLUSH_MS = 200;

export class ZteMifiDevice extends EventEmitter<{
  'download-mode': [via: 'at' | 'diag'];
  problem: [message: string];
}> {
  readonly #at: ModemPtyPort;
  readonly #diag: ModemPtyPort;
  #mode: 'modem' | 'edl' = 'modem';

  constructor(readonly options: ZteMifiOptions) {
    super();
    const identity = options.identity ?? ZTE_MIFI_IDENTITY;
    const problem = (m: string) => this.emit('problem', m);
    this.#at = new ModemPtyPort(
      join(options.dir, 'at'),
      () => {
        const r = new AtResponder({
          identity,
          ...(options.urc ? { urc: true } : {}),
          ...(options.atFault ? { fault: options.atFault } : {}),
          onDownloadMode: () => this.#leave('at'),
        });
        return (bytes) => [r.push(bytes)];
      },
      problem,
    );
    this.#diag = new ModemPtyPort(
      join(options.dir, 'diag'),
      () => {
        const r = new DiagResponder(() => this.#leave('diag'));
        return (bytes) => r.push(bytes);
      },
      problem,
    );
  }

  get mode(): 'modem' | 'edl' {
    return this.#mode;
  }
  get atPath(): string | null {
    return this.#at.hostPath;
  }
  get diagPath(): string | null {
    return this.#diag.hostPath;
  }
  get imei(): string {
    return (this.options.identity ?? ZTE_MIFI_IDENTITY).imei;
  }

  /** Resolves when the AT port is offered afresh after its host hung up (see ModemPtyPort.nextOffer). */
  nextAtOffer(): Promise<void> {
    return this.#at.nextOffer();
  }

  async start(): Promise<void> {
    await this.#at.open();
    await this.#diag.open();
  }

  async stop(): Promise<void> {
    await Promise.all([this.#at.close(), this.#diag.close()]);
  }

  /** Called from inside a responder: the reply is queued first, then the ports go away. */
  #leave(via: 'at' | 'diag'): void {
    if (this.#mode === 'edl') return;
    this.#mode = 'edl';
    setTimeout(() => {
      void (async () => {
        await Promise.all([this.#at.close(LEAVE_FLUSH_MS), this.#diag.close(LEAVE_FLUSH_MS)]);
        this.emit('download-mode', via);
        await this.options.onDownloadMode?.(via);
      })().catch((err: unknown) => this.emit('problem', String(err)));
    }, 0);
  }
}
