/**
 * A deliberately small fastboot host for the virtual device's own tests (the product's client lives in
 * main/protocol/fastboot and is tested on its own): FB01 handshake, framed commands, raw replies.
 */
import { connect as tcpConnect } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import { encodeFrame, FrameParser, TCP_HANDSHAKE } from '../../../../main/protocol/fastboot/tcp-framing.js';
import {
  decodeResponse,
  encodeCommand,
  type FastbootResponse,
} from '../../../../main/protocol/fastboot/wire.js';

export interface Reply {
  readonly infos: string[];
  readonly final: FastbootResponse;
}

export class MiniClient {
  readonly #parser = new FrameParser();
  readonly #frames: Buffer[] = [];
  #parts: Buffer[] = [];
  #waiter: (() => void) | null = null;
  #closed = false;
  #handshake: Buffer = Buffer.alloc(0);
  #shaken = false;

  constructor(readonly stream: Duplex) {
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    stream.on('close', () => this.#wake(true));
    stream.on('end', () => this.#wake(true));
    stream.on('error', () => this.#wake(true));
  }

  static async tcp(port: number): Promise<MiniClient> {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new MiniClient(socket);
    await c.handshake();
    return c;
  }

  #wake(closed = false): void {
    if (closed) this.#closed = true;
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  #onData(chunk: Buffer): void {
    let rest = chunk;
    if (!this.#shaken) {
      this.#handshake = Buffer.concat([this.#handshake, rest]);
      if (this.#handshake.byteLength < 4) return;
      rest = this.#handshake.subarray(4);
      this.#handshake = this.#handshake.subarray(0, 4);
      this.#shaken = true;
      this.#wake();
    }
    for (const ev of this.#parser.push(rest)) {
      if (ev.kind === 'start') this.#parts = [];
      else if (ev.kind === 'data') this.#parts.push(Buffer.from(ev.bytes));
      else {
        this.#frames.push(Buffer.concat(this.#parts));
        this.#wake();
      }
    }
  }

  async #until(cond: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (this.#closed) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for the device');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  async handshake(timeoutMs = 10_000): Promise<void> {
    this.stream.write(Buffer.from(TCP_HANDSHAKE));
    await this.#until(() => this.#shaken, timeoutMs);
    if (this.#handshake.toString('latin1') !== TCP_HANDSHAKE) throw new Error('bad handshake reply');
  }

  /** Next raw reply frame. */
  async frame(timeoutMs = 10_000): Promise<Buffer> {
    await this.#until(() => this.#frames.length > 0, timeoutMs);
    return this.#frames.shift()!;
  }

  sendRaw(bytes: Uint8Array): void {
    this.stream.write(bytes);
  }

  async reply(timeoutMs = 60_000): Promise<Reply> {
    const infos: string[] = [];
    for (;;) {
      const r = decodeResponse(await this.frame(timeoutMs));
      if (r.type === 'INFO' || r.type === 'TEXT') infos.push(r.message);
      else return { infos, final: r };
    }
  }

  async command(text: string): Promise<Reply> {
    this.stream.write(encodeFrame(encodeCommand(text)));
    return this.reply();
  }

  /** OKAY message or throw with the FAIL reason. */
  async okay(text: string): Promise<string> {
    const r = await this.command(text);
    if (r.final.type !== 'OKAY')
      throw new Error(`${text}: ${r.final.type} ${'message' in r.final ? r.final.message : ''}`);
    return r.final.message;
  }

  async getvar(name: string): Promise<string> {
    return this.okay(`getvar:${name}`);
  }

  /** download + data (in frames of `frameSize`), resolves to the final reply. */
  async download(data: Readable | Uint8Array, size: number, frameSize = 1024 * 1024): Promise<Reply> {
    const r = await this.command(`download:${size.toString(16).padStart(8, '0')}`);
    if (r.final.type !== 'DATA') return r;
    const chunks: AsyncIterable<Uint8Array> | Uint8Array[] = data instanceof Uint8Array ? [data] : data;
    for await (const chunk of chunks) {
      for (let o = 0; o < chunk.byteLength; o += frameSize) {
        const ok = this.stream.write(
          encodeFrame(chunk.subarray(o, Math.min(chunk.byteLength, o + frameSize))),
        );
        if (!ok) await new Promise((r2) => this.stream.once('drain', r2));
      }
    }
    return this.reply();
  }

  async flashBytes(partition: string, data: Uint8Array): Promise<void> {
    const d = await this.download(data, data.byteLength);
    if (d.final.type !== 'OKAY') throw new Error(`download failed: ${JSON.stringify(d.final)}`);
    await this.okay(`flash:${partition}`);
  }

  async sha256(partition: string): Promise<string> {
    const r = await this.command(`oem sha256 ${partition}`);
    if (r.final.type !== 'OKAY' || r.infos.length !== 1)
      throw new Error(`oem sha256 failed: ${JSON.stringify(r)}`);
    return r.infos[0]!;
  }

  close(): void {
    this.stream.destroy();
  }
}
