/**
 * The one fastboot session of the virtual device, at packet level: it pulls one packet at a time from a
 * `PacketLink` and sends each response as one packet. Framings are adapters around it: fastboot-session.ts
 * (FB01 handshake + 8-byte length frames over a Duplex: TCP, pty, in-process) and usb-gadget/ (one USB
 * transfer = one packet). During a download the data phase counts bytes, not packets: the host may send the
 * data in one packet or many. The session never closes the link: it returns why it ended and the owner decides.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  decodeCommand,
  encodeResponse,
  type FastbootResponse,
  MAX_COMMAND_LENGTH,
} from '../main/protocol/fastboot/wire.js';
import { CommandFailure, type VirtualDevice } from './device.js';
import type { DownloadTarget } from './download-buffer.js';
import { PowerCutError } from './faults.js';
import { allVariables, getVariable } from './getvars.js';
import { hasFlashlineExtensions, type RebootTarget } from './profiles.js';
import { ReadTimeoutError } from './stream-reader.js';

export type SessionEnd =
  | { readonly reason: 'closed' | 'power-cut' | 'cable-pull' }
  | { readonly reason: 'reboot'; readonly into: RebootTarget }
  | { readonly reason: 'protocol-error' | 'timeout'; readonly message: string };

export interface SessionOptions {
  /** Max wait for the handshake and for the rest of a started packet or download (default 30 s). */
  readonly stallTimeoutMs?: number;
  /** Max wait for the next command between packets (default 10 min). */
  readonly idleTimeoutMs?: number;
  /**
   * Ends the session (power cut, or stop while the link stays open, e.g. a pty). The session checks it after
   * every packet; a link whose `receive` can block should also wake up on it.
   */
  readonly signal?: AbortSignal;
}

/** What the session expects next, so a link can size its read (USB must never read past a data phase). */
export interface PacketRequest {
  /** 'command': the next packet is one command; 'data': a download is open and `maxLength` bytes are due. */
  readonly phase: 'command' | 'data';
  /** Command phase: the largest valid command; data phase: the bytes still due. */
  readonly maxLength: number;
  /** Give up with a ReadTimeoutError after this long without a packet. */
  readonly timeoutMs: number;
}

export interface PacketLink {
  /**
   * The next packet from the host, or null once the link is closed.
   * @throws ReadTimeoutError after `request.timeoutMs`; PacketRejected for a packet the framing itself refuses
   */
  receive(request: PacketRequest): Promise<Uint8Array | null>;
  /**
   * One response packet. A link whose send can block (USB: until the host reads) gives up after `timeoutMs`
   * with a SendTimeoutError (the session ends as 'timeout'); any other rejection means the link is gone and the
   * session ends as 'closed'.
   */
  send(packet: Uint8Array, timeoutMs: number): Promise<void>;
}

export class SendTimeoutError extends Error {
  constructor(ms: number) {
    super(`the host did not take a response for ${ms} ms`);
    this.name = 'SendTimeoutError';
  }
}

/** Thrown by a link (or the session) for a packet that breaks the protocol: answered with FAIL, then the end. */
export class PacketRejected extends Error {
  constructor(
    readonly reply: string,
    readonly endMessage: string,
  ) {
    super(endMessage);
    this.name = 'PacketRejected';
  }
}

class SessionEnded extends Error {
  constructor(readonly end: SessionEnd) {
    super(end.reason);
  }
}

/** Reboot commands and where they go; `fastboot` (fastbootd) only on a device with dynamic partitions. */
const REBOOTS = new Map<string, RebootTarget>([
  ['reboot', 'os'],
  ['reboot-bootloader', 'bootloader'],
  ['reboot:bootloader', 'bootloader'],
  ['reboot-fastboot', 'fastboot'],
  ['reboot:fastboot', 'fastboot'],
]);

/** fastbootd's commands on logical partitions (AOSP fastboot/device/commands.cpp names). */
const LOGICAL_COMMANDS = new Set([
  'create-logical-partition',
  'delete-logical-partition',
  'resize-logical-partition',
  'update-super',
]);

/** A partition size argument: decimal bytes, as the AOSP client sends it. */
function parseSize(text: string | undefined): number {
  const n = text !== undefined && /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n))
    throw new CommandFailure(`size '${(text ?? '').slice(0, 20)}' is not a number of bytes`);
  return n;
}

/** Reboot targets a real device offers that the virtual device does not simulate (yet). */
const UNSIMULATED_REBOOTS = new Set(['reboot-recovery', 'reboot:recovery']);

const GARBAGE = [
  Buffer.from('XYZW garbage'),
  Buffer.from('OK'),
  Buffer.from('DATAnot-hex!'),
  Buffer.from(`OKAY${'x'.repeat(400)}`),
  Buffer.alloc(0),
];

export async function serveFastbootPackets(
  link: PacketLink,
  device: VirtualDevice,
  options: SessionOptions = {},
): Promise<SessionEnd> {
  const session = new PacketSession(link, device, options);
  try {
    return await session.run();
  } finally {
    session.close();
  }
}

class PacketSession {
  readonly #stall: number;
  readonly #idle: number;
  readonly #signal: AbortSignal | undefined;
  #download: DownloadTarget | null = null;
  #garbageIndex = 0;
  #paceStart = 0;
  #paceBytes = 0;

  constructor(
    readonly link: PacketLink,
    readonly device: VirtualDevice,
    options: SessionOptions,
  ) {
    this.#stall = options.stallTimeoutMs ?? 30_000;
    this.#idle = options.idleTimeoutMs ?? 600_000;
    this.#signal = options.signal;
  }

  close(): void {
    const sink = this.#download;
    this.#download = null;
    if (sink) void sink.close().catch(() => {});
  }

  async run(): Promise<SessionEnd> {
    try {
      for (;;) {
        if (this.#signal?.aborted) return { reason: 'closed' };
        const sink = this.#download;
        const request: PacketRequest = sink
          ? { phase: 'data', maxLength: sink.size - sink.received, timeoutMs: this.#stall }
          : { phase: 'command', maxLength: MAX_COMMAND_LENGTH, timeoutMs: this.#idle };
        const packet = await this.link.receive(request);
        if (packet === null || this.#signal?.aborted) return { reason: 'closed' };
        await this.#pace(packet.byteLength);
        if (sink) await this.#data(sink, packet);
        else await this.#command(packet);
      }
    } catch (err) {
      if (err instanceof PacketRejected) {
        await this.#reply({ type: 'FAIL', message: err.reply }).catch(() => {});
        return { reason: 'protocol-error', message: err.endMessage };
      }
      if (err instanceof SessionEnded) return err.end;
      if (err instanceof PowerCutError) return { reason: 'power-cut' };
      if (err instanceof ReadTimeoutError) return { reason: 'timeout', message: err.message };
      return { reason: 'protocol-error', message: err instanceof Error ? err.message : String(err) };
    }
  }

  async #pace(bytes: number): Promise<void> {
    const rate = this.device.faults.rateBytesPerSecond;
    if (!rate) return;
    if (this.#paceStart === 0) this.#paceStart = performance.now();
    this.#paceBytes += bytes;
    const due = this.#paceStart + (this.#paceBytes / rate) * 1000;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
  }

  async #send(bytes: Uint8Array): Promise<void> {
    try {
      await this.link.send(bytes, this.#stall);
    } catch (err) {
      if (err instanceof SendTimeoutError)
        throw new SessionEnded({ reason: 'timeout', message: err.message });
      // The peer vanished: a normal end of session, not a crash.
      throw new SessionEnded({ reason: 'closed' });
    }
  }

  async #reply(response: FastbootResponse): Promise<void> {
    const f = this.device.faults;
    if (f.latencyMs) await sleep(f.latencyMs);
    if (f.garbageReplies) {
      await this.#send(GARBAGE[this.#garbageIndex++ % GARBAGE.length]!);
      return;
    }
    await this.#send(encodeResponse(response));
  }

  async #command(packet: Uint8Array): Promise<void> {
    if (packet.byteLength > MAX_COMMAND_LENGTH) {
      throw new PacketRejected(
        `command of ${packet.byteLength} bytes exceeds ${MAX_COMMAND_LENGTH}`,
        'oversized command',
      );
    }
    if (packet.byteLength === 0) {
      await this.#reply({ type: 'FAIL', message: 'empty command' });
      return;
    }
    await this.#dispatch(decodeCommand(packet));
  }

  async #data(sink: DownloadTarget, bytes: Uint8Array): Promise<void> {
    const from = sink.received;
    const to = from + bytes.byteLength;
    if (to > sink.size) {
      this.#download = null;
      await sink.close();
      throw new PacketRejected(
        `download overran: ${to - sink.size} bytes beyond ${sink.size}`,
        'download overran',
      );
    }
    const drop = this.device.faults.dropAtByte;
    if (drop !== undefined && drop >= from && drop < to) {
      this.device.faults = { ...this.device.faults, dropAtByte: undefined };
      throw new SessionEnded({ reason: 'cable-pull' });
    }
    if (this.device.cutOffset('download', from, to) !== null) this.device.firePowerCut('download');
    await sink.write(bytes);
    if (sink.received === sink.size) {
      this.#download = null;
      const image = await sink.finish();
      this.device.completeDownload(image);
      await this.#reply({ type: 'OKAY', message: '' });
    }
  }

  async #dispatch(text: string): Promise<void> {
    const colon = text.indexOf(':');
    const name = colon < 0 ? text : text.slice(0, colon);
    const arg = colon < 0 ? '' : text.slice(colon + 1);
    const printable = text.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
    try {
      await this.device.exclusive(async () => {
        if (this.device.mode === 'off') throw new CommandFailure('device is powered off');
        if (name === 'getvar') return this.#getvar(arg);
        if (name === 'download') return this.#startDownload(arg);
        if (name === 'flash') return this.#ok(() => this.device.flash(arg));
        if (name === 'erase') return this.#ok(() => this.device.erase(arg));
        if (name === 'set_active') return this.#ok(() => this.device.setActive(arg));
        if (LOGICAL_COMMANDS.has(name)) return this.#ok(() => this.#logical(name, arg.split(':')));
        if (text.startsWith('oem ') && hasFlashlineExtensions(this.device.config.profile))
          return this.#oem(text.slice(4).trim().split(/ +/));
        const into = REBOOTS.get(text);
        if (UNSIMULATED_REBOOTS.has(text) || (into === 'fastboot' && !this.device.hasFastbootd)) {
          throw new CommandFailure(
            `'${text}' is not simulated: this device has no ${into ? 'fastbootd (a stock-android phone started with dynamic partitions has one)' : 'recovery'} (issue #13); use reboot or reboot-bootloader`,
          );
        }
        if (into) {
          await this.#reply({ type: 'OKAY', message: '' });
          throw new SessionEnded({ reason: 'reboot', into });
        }
        throw new CommandFailure(`unknown command '${printable}'`);
      });
    } catch (err) {
      if (err instanceof CommandFailure) await this.#reply({ type: 'FAIL', message: err.message });
      else throw err;
    }
  }

  /** create/delete/resize-logical-partition NAME[:SIZE], update-super:NAME[:wipe] (fastbootd only). */
  async #logical(command: string, args: string[]): Promise<void> {
    const [name = '', second] = args;
    if (name === '') throw new CommandFailure(`${command} needs a partition name`);
    const d = this.device;
    if (command === 'create-logical-partition') return d.createLogicalPartition(name, parseSize(second));
    if (command === 'resize-logical-partition') return d.resizeLogicalPartition(name, parseSize(second));
    if (command === 'delete-logical-partition') return d.deleteLogicalPartition(name);
    if (second !== undefined && second !== 'wipe')
      throw new CommandFailure(`update-super: '${second.slice(0, 20)}' is not 'wipe'`);
    return d.updateSuper(name, second === 'wipe');
  }

  async #ok(op: () => Promise<void>): Promise<void> {
    await op();
    await this.#reply({ type: 'OKAY', message: '' });
  }

  async #getvar(name: string): Promise<void> {
    if (name === 'all') {
      for (const [k, v] of allVariables(this.device))
        await this.#reply({ type: 'INFO', message: `${k}:${v}` });
      await this.#reply({ type: 'OKAY', message: '' });
      return;
    }
    const value = getVariable(this.device, name);
    if (value === undefined) throw new CommandFailure(`unknown variable '${name.slice(0, 64)}'`);
    await this.#reply({ type: 'OKAY', message: value });
  }

  async #startDownload(arg: string): Promise<void> {
    if (!/^[0-9a-fA-F]{1,8}$/.test(arg))
      throw new CommandFailure(`download size '${arg.slice(0, 16)}' is not 1-8 hex digits`);
    const size = Number.parseInt(arg, 16);
    this.#download = await this.device.beginDownload(size);
    await this.#reply({ type: 'DATA', size });
  }

  async #oem(args: string[]): Promise<void> {
    const [verb, ...rest] = args;
    if (verb === 'sha256' && rest.length === 1) {
      await this.#reply({ type: 'INFO', message: await this.device.partitionSha256(rest[0]!) });
      await this.#reply({ type: 'OKAY', message: '' });
    } else if (verb === 'mark-successful' && rest.length === 0) {
      await this.#ok(() => this.device.markSuccessful());
    } else if (verb === 'help') {
      await this.#reply({ type: 'INFO', message: 'oem sha256 PARTITION | oem mark-successful | oem help' });
      await this.#reply({ type: 'OKAY', message: '' });
    } else {
      throw new CommandFailure(`unknown oem command '${args.join(' ').slice(0, 64)}' (try: oem help)`);
    }
  }
}
