/**
 * A bricked Qualcomm device in Emergency Download mode (`--profile qualcomm-edl`): the boot ROM speaks
 * Sahara until a programmer signed for its OEM PK hash is loaded, then that programmer speaks Firehose on
 * the same link until `power reset` (or a Sahara RESET) puts it back into EDL. Served over TCP (a raw byte
 * stream: device id `edl:HOST:PORT`) and over a socat pty (`serial:PATH`), one host at a time.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlashlineError } from '../../main/common/errors.js';
import { TcpListener } from '../tcp-listener.js';
import { whyNotBootable } from './boot-check.js';
import { DeviceLink } from './device-link.js';
import { type FirehoseDeviceState, type FirehoseFaults, serveFirehose } from './firehose-side.js';
import { EdlPty } from './pty-server.js';
import { serveSahara } from './sahara-side.js';
import { type EdlStorageType, SectorStorage } from './storage.js';

/** The simulated OEM key; its SHA-256 is the default OEM PK hash a programmer must be signed for. */
export const SIM_OEM_KEY = 'flashline simulated OEM root key';
export const DEFAULT_OEM_PK_HASH = createHash('sha256').update(SIM_OEM_KEY).digest();

export interface EdlDeviceOptions {
  readonly stateDir?: string;
  readonly storage?: EdlStorageType;
  readonly saharaVersion?: 2 | 3;
  readonly serialNumber?: number;
  readonly oemPkHash?: Uint8Array;
  /** TCP listener (default 127.0.0.1, any free port); false for none. */
  readonly tcp?: { readonly host?: string; readonly port?: number } | false;
  readonly pty?: boolean;
  /** Largest Firehose payload the programmer takes (default 1 MiB). */
  readonly maxPayload?: number;
  readonly faults?: FirehoseFaults & { readonly swallowHello?: boolean };
  /**
   * How the device comes back after a reset that finds a bootable disk (boot-check.ts): the composition
   * root starts the fastboot device (the reference profile, same serial). Without it the device stays in EDL.
   */
  readonly bootTo?: BootHook;
}

/** What the device runs once booted; the EDL links are closed before it starts. */
export interface BootedDevice {
  /** e.g. `tcp:127.0.0.1:5554`. */
  readonly address: string;
  stop(): Promise<void>;
}

/** Start the booted device. `edlTcp` is the EDL listener's address (the port it may now take over). */
export type BootHook = (how: {
  readonly serial: string;
  readonly edlTcp?: { readonly host: string; readonly port: number };
}) => Promise<BootedDevice>;

/** The serial the booted device reports over fastboot: the Sahara serial in hex, as Qualcomm's ABL prints it. */
export function fastbootSerialOf(saharaSerial: number): string {
  return saharaSerial.toString(16).padStart(8, '0');
}

export class EdlDeviceHandle {
  mode: 'sahara' | 'firehose' | 'booted' = 'sahara';
  /** The fastboot device it became after a successful rescue and reset. */
  booted: BootedDevice | null = null;
  readonly serialNumber: number;
  readonly oemPkHash: Uint8Array;
  #tcp: TcpListener | null = null;
  #pty: EdlPty | null = null;
  #busy = false;
  #links = new Set<DeviceLink>();
  /** Programmer bytes the ROM received, over all sessions (tests: a refused programmer sends none). */
  programmerBytesReceived = 0;
  /** Sessions that ended (for tests and the CLI's stderr): what happened, in order. */
  readonly history: string[] = [];

  private constructor(
    readonly state: FirehoseDeviceState,
    readonly opts: EdlDeviceOptions,
    readonly stateDir: string,
    readonly removeOnStop: boolean,
  ) {
    this.serialNumber = opts.serialNumber ?? randomBytes(4).readUInt32LE(0);
    this.oemPkHash = opts.oemPkHash ?? DEFAULT_OEM_PK_HASH;
  }

  static async start(opts: EdlDeviceOptions = {}): Promise<EdlDeviceHandle> {
    const stateDir = opts.stateDir ?? (await fs.mkdtemp(join(tmpdir(), 'flashline-edl-')));
    await fs.mkdir(stateDir, { recursive: true });
    const maxPayload = opts.maxPayload ?? 1 << 20;
    if (!Number.isSafeInteger(maxPayload) || maxPayload < 4096)
      throw new FlashlineError('bad_input', 'max payload must be at least 4096 bytes');
    const storage = await SectorStorage.open(
      join(stateDir, `disk-${opts.storage ?? 'ufs'}.img`),
      opts.storage ?? 'ufs',
    );
    const state: FirehoseDeviceState = {
      storage,
      faults: opts.faults ?? {},
      maxPayload,
      bootableDrive: null,
      dropped: false,
    };
    const h = new EdlDeviceHandle(state, opts, stateDir, opts.stateDir === undefined);
    try {
      if (opts.tcp !== false) {
        h.#tcp = new TcpListener(opts.tcp?.host ?? '127.0.0.1', opts.tcp?.port ?? 0, (s) => h.#onSocket(s));
        await h.#tcp.open();
      }
      if (opts.pty) {
        h.#pty = new EdlPty(join(stateDir, 'pty'), (link) => h.serve(link));
        await h.#pty.open();
      }
    } catch (err) {
      await h.stop();
      throw err;
    }
    return h;
  }

  /** `edl:HOST:PORT` when served over TCP. */
  get address(): string | undefined {
    return this.#tcp ? `edl:${this.#tcp.hostPort}` : undefined;
  }

  /** The pty host end (`serial:` + this). */
  get ptyPath(): string | undefined {
    return this.#pty?.hostPath ?? undefined;
  }

  get storage(): SectorStorage {
    return this.state.storage;
  }

  #onSocket(socket: Socket): void {
    socket.setNoDelay(true);
    if (this.#busy) {
      // One host at a time, as one USB port: a second connection is refused.
      socket.destroy();
      return;
    }
    void this.serve(new DeviceLink(socket));
  }

  /** Serve one host connection until it hangs up or the device resets. */
  async serve(link: DeviceLink): Promise<void> {
    this.#busy = true;
    let reset = false;
    this.#links.add(link);
    try {
      for (;;) {
        if (this.mode === 'sahara') {
          const end = await serveSahara(link, {
            version: this.opts.saharaVersion ?? 2,
            serialNumber: this.serialNumber,
            msmHwId: 0x000a50e100000000n,
            oemPkHash: this.oemPkHash,
            chipId: { msmId: 0x000a50e1, oemId: 0x0051, modelId: 0x0001 },
            swallowHello: this.opts.faults?.swallowHello ?? false,
            onProgrammerBytes: (n) => {
              this.programmerBytesReceived += n;
            },
          });
          this.history.push(`sahara: ${end}`);
          if (end !== 'programmer-loaded') break;
          this.mode = 'firehose';
        }
        const end = await serveFirehose(link, this.state);
        this.history.push(`firehose: ${end}`);
        if (end === 'reset') {
          this.mode = 'sahara';
          reset = true;
        }
        break;
      }
    } catch (err) {
      this.history.push(`session ended: ${(err as Error).message}`);
    } finally {
      await link.close();
      this.#links.delete(link);
      this.#busy = false;
    }
    if (reset) await this.#bootIfBootable();
  }

  /** After a reset: boot when the disk is bootable and a boot hook is wired; otherwise stay in EDL. */
  async #bootIfBootable(): Promise<void> {
    const why = await whyNotBootable(this.state.storage, this.state.bootableDrive);
    if (why !== null || !this.opts.bootTo) {
      this.history.push(`reset: stays in EDL (${why ?? 'no boot target wired'})`);
      return;
    }
    const tcp = this.#tcp;
    const edlTcp = tcp ? { host: tcp.host, port: tcp.port } : undefined;
    this.mode = 'booted';
    await this.#tcp?.close();
    await this.#pty?.close();
    this.#tcp = null;
    this.#pty = null;
    try {
      this.booted = await this.opts.bootTo({
        serial: fastbootSerialOf(this.serialNumber),
        ...(edlTcp ? { edlTcp } : {}),
      });
      this.history.push(`reset: booted as ${this.booted.address}`);
    } catch (err) {
      this.history.push(`reset: boot failed (${(err as Error).message})`);
    }
  }

  async stop(): Promise<void> {
    await this.booted?.stop();
    await this.#tcp?.close();
    await Promise.all([...this.#links].map((l) => l.close()));
    await this.#pty?.close();
    await this.state.storage.close();
    if (this.removeOnStop) await fs.rm(this.stateDir, { recursive: true, force: true });
  }
}
