/**
 * Serve fastboot on any Duplex (TCP socket, pty, in-process pair): "FB01" handshake both ways, then
 * 8-byte big-endian length-framed packets (AOSP fastboot README, TCP protocol v1). During a download the
 * data phase counts bytes, not packets. The session never destroys the stream: it returns why it ended and
 * the owner (TCP server, pty runner) decides.
 */
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  encodeFrame,
  type FrameEvent,
  FrameParser,
  parseHandshake,
  TCP_HANDSHAKE,
} from '../main/protocol/fastboot/tcp-framing.js';
import {
  decodeCommand,
  encodeResponse,
  type FastbootResponse,
  MAX_COMMAND_LENGTH,
} from '../main/protocol/fastboot/wire.js';
import { CommandFailure, type VirtualDevice } from './device.js';
import type { DownloadSink } from './download-buffer.js';
import { PowerCutError } from './faults.js';
import { allVariables, getVariable } from './getvars.js';
import { ReadTimeoutError, StreamReader } from './stream-reader.js';

export type SessionEnd =
  | { readonly reason: 'closed' | 'power-cut' | 'cable-pull' }
  | { readonly reason: 'reboot'; readonly into: 'os' | 'bootloader' }
  | { readonly reason: 'protocol-error' | 'timeout'; readonly message: string };

export interface SessionOptions {
  /** Max wait for the handshake and for the rest of a started packet or download (default 30 s). */
  readonly stallTimeoutMs?: number;
  /** Max wait for the next command between packets (default 10 min). */
  readonly idleTimeoutMs?: number;
  /** Ends the session (power cut or stop while this stream stays open, e.g. a pty). */
  readonly signal?: AbortSignal;
}

class SessionEnded extends Error {
  constructor(readonly end: SessionEnd) {
    super(end.reason);
  }
}

const GARBAGE = [
  Buffer.from('XYZW garbage'),
  Buffer.from('OK'),
  Buffer.from('DATAnot-hex!'),
  Buffer.from(`OKAY${'x'.repeat(400)}`),
  Buffer.alloc(0),
];

export async function serveFastboot(
  stream: Duplex,
  device: VirtualDevice,
  options: SessionOptions = {},
): Promise<SessionEnd> {
  const session = new Session(stream, device, options);
  try {
    return await session.run();
  } finally {
    session.close();
  }
}

class Session {
  readonly #reader: StreamReader;
  readonly #parser = new FrameParser();
  readonly #stall: number;
  readonly #idle: number;
  readonly #signal: AbortSignal | undefined;
  #command: Buffer[] = [];
  #commandLength = 0;
  #download: DownloadSink | null = null;
  #garbageIndex = 0;
  #dataFrame = false;
  #paceStart = 0;
  #paceBytes = 0;

  constructor(
    readonly stream: Duplex,
    readonly device: VirtualDevice,
    options: SessionOptions,
  ) {
    this.#reader = new StreamReader(stream);
    this.#stall = options.stallTimeoutMs ?? 30_000;
    this.#idle = options.idleTimeoutMs ?? 600_000;
    this.#signal = options.signal;
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
    // A peer that vanished makes writes fail; that is a normal end of session, not a crash.
    stream.on('error', this.#ignoreError);
  }

  readonly #onAbort = () => this.#reader.detach();
  readonly #ignoreError = () => {};

  close(): void {
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.stream.off('error', this.#ignoreError);
    this.#reader.detach();
    const sink = this.#download;
    this.#download = null;
    if (sink) void sink.close().catch(() => {});
  }

  async run(): Promise<SessionEnd> {
    try {
      await this.#handshake();
      for (;;) {
        const between = this.#parser.remaining < 0 && !this.#download;
        const chunk = await this.#reader.read(between ? this.#idle : this.#stall);
        if (this.#signal?.aborted) return { reason: 'closed' };
        if (chunk === null) return { reason: 'closed' };
        await this.#pace(chunk.byteLength);
        for (const ev of this.#parser.push(chunk)) await this.#event(ev);
      }
    } catch (err) {
      if (err instanceof SessionEnded) return err.end;
      if (err instanceof PowerCutError) return { reason: 'power-cut' };
      if (err instanceof ReadTimeoutError) return { reason: 'timeout', message: err.message };
      return { reason: 'protocol-error', message: err instanceof Error ? err.message : String(err) };
    }
  }

  async #handshake(): Promise<void> {
    let got = Buffer.alloc(0);
    while (got.byteLength < 4) {
      const chunk = await this.#reader.read(this.#stall);
      if (chunk === null || this.#signal?.aborted) throw new SessionEnded({ reason: 'closed' });
      got = Buffer.concat([got, chunk]);
    }
    const version = parseHandshake(got.subarray(0, 4));
    if (version === null || version < 1) {
      throw new SessionEnded({ reason: 'protocol-error', message: 'bad handshake (expected FB01)' });
    }
    this.#write(Buffer.from(TCP_HANDSHAKE, 'latin1'));
    const rest = got.subarray(4);
    if (rest.byteLength > 0) {
      for (const ev of this.#parser.push(rest)) await this.#event(ev);
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

  #write(bytes: Uint8Array): void {
    if (!this.stream.destroyed && this.stream.writable) this.stream.write(bytes);
  }

  async #reply(response: FastbootResponse): Promise<void> {
    const f = this.device.faults;
    if (f.latencyMs) await sleep(f.latencyMs);
    if (f.garbageReplies) {
      const g = GARBAGE[this.#garbageIndex++ % GARBAGE.length]!;
      this.#write(encodeFrame(g));
      return;
    }
    this.#write(encodeFrame(encodeResponse(response)));
  }

  /** Frames that start during a download carry data; all others carry one command. */
  async #event(ev: FrameEvent): Promise<void> {
    if (ev.kind === 'start') this.#dataFrame = this.#download !== null;
    if (this.#dataFrame) await this.#downloadEvent(ev);
    else await this.#commandEvent(ev);
  }

  async #commandEvent(ev: FrameEvent): Promise<void> {
    if (ev.kind === 'start') {
      if (ev.length > MAX_COMMAND_LENGTH) {
        await this.#reply({
          type: 'FAIL',
          message: `command of ${ev.length} bytes exceeds ${MAX_COMMAND_LENGTH}`,
        });
        throw new SessionEnded({ reason: 'protocol-error', message: 'oversized command' });
      }
      this.#command = [];
      this.#commandLength = 0;
      return;
    }
    if (ev.kind === 'data') {
      this.#command.push(Buffer.from(ev.bytes));
      this.#commandLength += ev.bytes.byteLength;
      return;
    }
    if (this.#commandLength === 0) {
      await this.#reply({ type: 'FAIL', message: 'empty command' });
      return;
    }
    const text = decodeCommand(Buffer.concat(this.#command, this.#commandLength));
    await this.#dispatch(text);
  }

  async #downloadEvent(ev: FrameEvent): Promise<void> {
    const sink = this.#download;
    if (ev.kind !== 'data') return;
    if (!sink) {
      await this.#reply({ type: 'FAIL', message: 'data frame continues past the end of the download' });
      throw new SessionEnded({ reason: 'protocol-error', message: 'download overran' });
    }
    const from = sink.received;
    const to = from + ev.bytes.byteLength;
    if (to > sink.size) {
      this.#download = null;
      await sink.close();
      await this.#reply({
        type: 'FAIL',
        message: `download overran: ${to - sink.size} bytes beyond ${sink.size}`,
      });
      throw new SessionEnded({ reason: 'protocol-error', message: 'download overran' });
    }
    const drop = this.device.faults.dropAtByte;
    if (drop !== undefined && drop >= from && drop < to) {
      this.device.faults = { ...this.device.faults, dropAtByte: undefined };
      throw new SessionEnded({ reason: 'cable-pull' });
    }
    if (this.device.cutOffset('download', from, to) !== null) this.device.firePowerCut('download');
    await sink.write(ev.bytes);
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
        if (text.startsWith('oem ')) return this.#oem(text.slice(4).trim().split(/ +/));
        if (text === 'reboot' || text === 'reboot-bootloader' || text === 'reboot:bootloader') {
          await this.#reply({ type: 'OKAY', message: '' });
          throw new SessionEnded({ reason: 'reboot', into: text === 'reboot' ? 'os' : 'bootloader' });
        }
        throw new CommandFailure(`unknown command '${printable}'`);
      });
    } catch (err) {
      if (err instanceof CommandFailure) await this.#reply({ type: 'FAIL', message: err.message });
      else throw err;
    }
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
