/**
 * The fastboot host client (AOSP system/core/fastboot/README.md): one command at a time over a PacketLink.
 * INFO/TEXT are surfaced as events and each one restarts the response timeout (a long `flash` or `erase`
 * keeps a slow device alive by talking); FAIL becomes FastbootFailError. Slots and large images are handled
 * by siblings (slots.ts here; the engine's main/flash/send-pieces.ts) built on these primitives.
 */
import { EventEmitter } from 'node:events';
import type { ByteProgress, PacketLink } from '../../transport/index.js';
import { FastbootFailError, FastbootProtocolError } from './errors.js';
import { decodeResponse, encodeCommand, MAX_RESPONSE_LENGTH, WireFormatError } from './wire.js';

export const DEFAULT_RESPONSE_TIMEOUT_MS = 30_000;

export interface CallOptions {
  readonly signal?: AbortSignal;
  /** Overrides the client's response timeout for this call (restarted by every INFO/TEXT). */
  readonly timeoutMs?: number;
}

export interface FastbootClientOptions {
  /** How long to wait for each response packet (default 30 s). */
  readonly responseTimeoutMs?: number;
  /** Timeout per chunk written during a data phase (default 30 s). */
  readonly dataTimeoutMs?: number;
}

export interface CommandResult {
  /** The OKAY message. */
  readonly message: string;
  /** INFO lines received before OKAY, in order. */
  readonly info: readonly string[];
}

export interface FastbootMessage {
  readonly command: string;
  readonly type: 'INFO' | 'TEXT';
  readonly text: string;
}

export interface FastbootClientEvents {
  /** An INFO or TEXT packet from the device. */
  message: [FastbootMessage];
}

export class FastbootClient {
  readonly link: PacketLink;
  /** Emits `message` for every INFO/TEXT the device sends. */
  readonly events = new EventEmitter<FastbootClientEvents>();
  readonly #responseTimeoutMs: number;
  readonly #dataTimeoutMs: number;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(link: PacketLink, opts: FastbootClientOptions = {}) {
    this.link = link;
    this.#responseTimeoutMs = opts.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS;
    this.#dataTimeoutMs = opts.dataTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS;
  }

  /**
   * Run one exchange at a time: fastboot is strictly host-driven and synchronous. An exchange that fails for
   * any reason other than the device's FAIL (timeout, abort, malformed reply, short data) leaves the two
   * sides out of step — a late reply would be read as the answer to the next command — so the link is
   * closed and later calls fail with DisconnectedError; reopen to continue.
   */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const guarded = async () => {
      try {
        return await work();
      } catch (err) {
        if (!(err instanceof FastbootFailError)) await this.link.close();
        throw err;
      }
    };
    const run = this.#queue.then(guarded, guarded);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #io(opts: CallOptions, timeoutMs = this.#responseTimeoutMs) {
    return { timeoutMs: opts.timeoutMs ?? timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) };
  }

  /** Read responses until OKAY/FAIL/DATA; INFO/TEXT are emitted and restart the timeout. */
  async #response(
    command: string,
    opts: CallOptions,
  ): Promise<{ type: 'OKAY'; message: string; info: string[] } | { type: 'DATA'; size: number }> {
    const info: string[] = [];
    for (;;) {
      const packet = await this.link.receive({ ...this.#io(opts), maxLength: MAX_RESPONSE_LENGTH });
      let r: ReturnType<typeof decodeResponse>;
      try {
        r = decodeResponse(packet);
      } catch (err) {
        if (err instanceof WireFormatError)
          throw new FastbootProtocolError(command, err.message, { cause: err });
        throw err;
      }
      switch (r.type) {
        case 'INFO':
          info.push(r.message);
          this.events.emit('message', { command, type: 'INFO', text: r.message });
          break;
        case 'TEXT':
          this.events.emit('message', { command, type: 'TEXT', text: r.message });
          break;
        case 'FAIL':
          throw new FastbootFailError(command, r.message);
        case 'OKAY':
          return { type: 'OKAY', message: r.message, info };
        case 'DATA':
          return { type: 'DATA', size: r.size };
      }
    }
  }

  async #simple(command: string, opts: CallOptions): Promise<CommandResult> {
    await this.link.send(encodeCommand(command), this.#io(opts));
    const r = await this.#response(command, opts);
    if (r.type === 'DATA') throw new FastbootProtocolError(command, 'DATA where OKAY or FAIL was expected');
    return { message: r.message, info: r.info };
  }

  /**
   * Send any command and wait for OKAY. @throws FastbootFailError, FastbootProtocolError, TimeoutError,
   * DisconnectedError, AbortedError
   */
  command(command: string, opts: CallOptions = {}): Promise<CommandResult> {
    return this.#exclusive(() => this.#simple(command, opts));
  }

  /** `getvar:NAME` → the value. */
  async getvar(name: string, opts: CallOptions = {}): Promise<string> {
    return (await this.command(`getvar:${name}`, opts)).message;
  }

  /**
   * `getvar:all` → every variable, in order. AOSP's fastbootd sends `name:value` (and `partition-size:boot:0x…`),
   * many bootloaders `name: value`; names may contain ':' themselves.
   */
  async getvarAll(opts: CallOptions = {}): Promise<Map<string, string>> {
    const { info } = await this.command('getvar:all', opts);
    const vars = new Map<string, string>();
    for (const line of info) {
      const spaced = line.indexOf(': ');
      const at = spaced > 0 ? spaced : line.lastIndexOf(':');
      if (at > 0) vars.set(line.slice(0, at).trim(), line.slice(at + (spaced > 0 ? 2 : 1)).trim());
    }
    return vars;
  }

  /**
   * `download:SIZE` then the data phase, streamed from `source` (never held in memory). `size` must be the
   * exact byte count the source yields.
   */
  download(
    size: number,
    source: AsyncIterable<Uint8Array>,
    opts: CallOptions & { onProgress?: ByteProgress } = {},
  ): Promise<CommandResult> {
    if (!Number.isSafeInteger(size) || size < 0 || size > 0xffffffff) {
      return Promise.reject(
        new RangeError(`download size ${size} does not fit fastboot's 32-bit size field`),
      );
    }
    const command = `download:${size.toString(16).padStart(8, '0')}`;
    return this.#exclusive(async () => {
      await this.link.send(encodeCommand(command), this.#io(opts));
      const r = await this.#response(command, opts);
      if (r.type !== 'DATA') throw new FastbootProtocolError(command, 'OKAY where DATA was expected');
      if (r.size !== size) {
        throw new FastbootProtocolError(command, `the device is ready for ${r.size} bytes, not ${size}`);
      }
      await this.link.sendData(size, source, {
        ...this.#io(opts, this.#dataTimeoutMs),
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      });
      const done = await this.#response(command, opts);
      if (done.type === 'DATA')
        throw new FastbootProtocolError(command, 'a second DATA after the data phase');
      return { message: done.message, info: done.info };
    });
  }

  /** `flash:PARTITION` (the partition name exactly; see slots.ts for `_a`/`_b`). */
  flash(partition: string, opts: CallOptions = {}): Promise<CommandResult> {
    return this.command(`flash:${partition}`, opts);
  }

  erase(partition: string, opts: CallOptions = {}): Promise<CommandResult> {
    return this.command(`erase:${partition}`, opts);
  }

  /** `set_active:SLOT` — `a`, `b`, … (a leading `_` is accepted and dropped, as AOSP does). */
  setActive(slot: string, opts: CallOptions = {}): Promise<CommandResult> {
    return this.command(`set_active:${slot.replace(/^_/, '')}`, opts);
  }

  /** `reboot`, or `reboot-TARGET` (bootloader, fastboot, recovery). */
  reboot(target?: 'bootloader' | 'fastboot' | 'recovery', opts: CallOptions = {}): Promise<CommandResult> {
    return this.command(target ? `reboot-${target}` : 'reboot', opts);
  }

  rebootBootloader(opts: CallOptions = {}): Promise<CommandResult> {
    return this.reboot('bootloader', opts);
  }

  /**
   * `update-super:NAME` (fastbootd): apply the super layout (`super_empty.img`) just downloaded to the super
   * partition NAME; `:wipe` only when asked.
   */
  updateSuper(superName: string, opts: CallOptions & { wipe?: boolean } = {}): Promise<CommandResult> {
    return this.command(`update-super:${superName}${opts.wipe ? ':wipe' : ''}`, opts);
  }

  /** `create-logical-partition:NAME:SIZE` (fastbootd; size in bytes, decimal as AOSP's client sends it). */
  createLogicalPartition(name: string, size: number, opts: CallOptions = {}): Promise<CommandResult> {
    return this.command(`create-logical-partition:${name}:${logicalSize(size)}`, opts);
  }

  /** `resize-logical-partition:NAME:SIZE` (fastbootd). */
  resizeLogicalPartition(name: string, size: number, opts: CallOptions = {}): Promise<CommandResult> {
    return this.command(`resize-logical-partition:${name}:${logicalSize(size)}`, opts);
  }

  /** `delete-logical-partition:NAME` (fastbootd). */
  deleteLogicalPartition(name: string, opts: CallOptions = {}): Promise<CommandResult> {
    return this.command(`delete-logical-partition:${name}`, opts);
  }

  /** `oem ARGS` (vendor commands; the reply's INFO lines are in the result). */
  oem(args: string, opts: CallOptions = {}): Promise<CommandResult> {
    return this.command(`oem ${args}`, opts);
  }

  /** `continue`: leave the bootloader and boot. */
  continueBoot(opts: CallOptions = {}): Promise<CommandResult> {
    return this.command('continue', opts);
  }

  /** Close the link. */
  close(): Promise<void> {
    return this.link.close();
  }
}

/** A logical partition size as a command argument; anything but a non-negative safe integer is a caller bug. */
function logicalSize(size: number): string {
  if (!Number.isSafeInteger(size) || size < 0)
    throw new RangeError(`logical partition size ${size} is not a byte count`);
  return String(size);
}
