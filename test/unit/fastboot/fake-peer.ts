/**
 * A scripted fastboot device for unit tests (the real virtual device is used by the integration tests).
 * The same logic answers at packet level (fake USB) and over a framed Duplex (memory/TCP/serial).
 */
import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { encodeFrame, FrameParser } from '../../../main/protocol/fastboot/tcp-framing.js';
import {
  decodeCommand,
  encodeResponse,
  type FastbootResponse,
} from '../../../main/protocol/fastboot/wire.js';

export type Reply = FastbootResponse | { readonly delayMs: number } | { readonly raw: Uint8Array };

export interface Download {
  readonly size: number;
  readonly sha256: string;
  /** Kept only when smaller than keepBytes. */
  readonly bytes?: Uint8Array;
}

export class FakeFastboot {
  readonly commands: string[] = [];
  readonly downloads: Download[] = [];
  readonly flashed: { partition: string; download: Download }[] = [];
  readonly vars = new Map<string, string>([
    ['product', 'fakephone'],
    ['serialno', 'FAKE123'],
    ['max-download-size', '0x10000'],
    ['slot-count', '2'],
    ['current-slot', 'a'],
    ['has-slot:boot', 'yes'],
    ['has-slot:misc', 'no'],
  ]);
  keepBytes = 1 << 20;
  /** Return replies to override the default behaviour for a command, or undefined. */
  handler: ((command: string) => Reply[] | undefined) | undefined;
  #expect = 0;
  #hash = createHash('sha256');
  #parts: Uint8Array[] = [];
  #got = 0;

  get inData(): boolean {
    return this.#expect > 0;
  }

  command(cmd: string): Reply[] {
    this.commands.push(cmd);
    const custom = this.handler?.(cmd);
    if (custom) {
      const data = custom.find((r): r is { type: 'DATA'; size: number } => 'type' in r && r.type === 'DATA');
      if (data) this.#startData(data.size);
      return custom;
    }
    const [verb, ...rest] = cmd.split(':');
    const arg = rest.join(':');
    if (verb === 'getvar') {
      if (arg === 'all') {
        return [
          ...[...this.vars].map(([k, v]): Reply => ({ type: 'INFO', message: `${k}: ${v}` })),
          { type: 'OKAY', message: '' },
        ];
      }
      const v = this.vars.get(arg);
      return [
        v === undefined
          ? { type: 'FAIL', message: 'GetVar Variable Not found' }
          : { type: 'OKAY', message: v },
      ];
    }
    if (verb === 'download') {
      const size = Number.parseInt(arg, 16);
      const max = Number(this.vars.get('max-download-size'));
      if (size > max) return [{ type: 'FAIL', message: 'data too large' }];
      this.#startData(size);
      return [{ type: 'DATA', size }];
    }
    if (verb === 'flash') {
      const last = this.downloads.at(-1);
      if (!last) return [{ type: 'FAIL', message: 'no image downloaded' }];
      this.flashed.push({ partition: arg, download: last });
      return [
        { type: 'INFO', message: `writing '${arg}'` },
        { type: 'OKAY', message: '' },
      ];
    }
    if (['erase', 'set_active'].includes(verb ?? '') || cmd.startsWith('reboot') || cmd === 'continue') {
      return [{ type: 'OKAY', message: '' }];
    }
    if (cmd.startsWith('oem '))
      return [
        { type: 'INFO', message: `oem said ${cmd.slice(4)}` },
        { type: 'OKAY', message: '' },
      ];
    return [{ type: 'FAIL', message: `unknown command ${cmd}` }];
  }

  #startData(size: number): void {
    this.#expect = size;
    this.#got = 0;
    this.#hash = createHash('sha256');
    this.#parts = [];
    if (size === 0) this.#finishData();
  }

  /** Feed data-phase bytes; returns the final replies once all announced bytes have arrived. */
  data(bytes: Uint8Array): Reply[] {
    this.#hash.update(bytes);
    if (this.#expect <= this.keepBytes) this.#parts.push(bytes.slice());
    this.#got += bytes.byteLength;
    if (this.#got < this.#expect) return [];
    return this.#finishData();
  }

  #finishData(): Reply[] {
    const size = this.#expect;
    const download: Download = {
      size,
      sha256: this.#hash.digest('hex'),
      ...(size <= this.keepBytes ? { bytes: Buffer.concat(this.#parts) } : {}),
    };
    this.downloads.push(download);
    this.#expect = 0;
    return [{ type: 'OKAY', message: '' }];
  }
}

function isDelay(r: Reply): r is { readonly delayMs: number } {
  return 'delayMs' in r;
}

function encodeReply(r: Exclude<Reply, { readonly delayMs: number }>): Uint8Array {
  return 'raw' in r ? r.raw : encodeResponse(r);
}

/** Serve a FakeFastboot over a Duplex with FB01 + 8-byte framing, as the virtual device does. */
export function serveFake(stream: Duplex, fake: FakeFastboot): Promise<void> {
  const parser = new FrameParser();
  let handshook = false;
  let hs = Buffer.alloc(0);
  let cmd: Uint8Array[] = [];
  let chain = Promise.resolve();
  const send = (replies: Reply[]) => {
    chain = chain.then(async () => {
      for (const r of replies) {
        if (isDelay(r)) await new Promise((res) => setTimeout(res, r.delayMs));
        else if (!stream.destroyed) stream.write(encodeFrame(encodeReply(r)));
      }
    });
  };
  return new Promise((resolve) => {
    stream.on('close', resolve);
    stream.on('error', () => {});
    stream.on('data', (chunk: Buffer) => {
      let data: Uint8Array = chunk;
      if (!handshook) {
        hs = Buffer.concat([hs, chunk]);
        if (hs.length < 4) return;
        handshook = true;
        stream.write('FB01');
        data = hs.subarray(4);
      }
      for (const e of parser.push(data)) {
        if (e.kind === 'data') {
          if (fake.inData) send(fake.data(e.bytes));
          else cmd.push(e.bytes.slice());
        } else if (e.kind === 'end' && !fake.inData && cmd.length > 0) {
          const text = decodeCommand(Buffer.concat(cmd));
          cmd = [];
          send(fake.command(text));
        }
      }
    });
  });
}

/** Answer at USB packet level: each OUT transfer is a command or data-phase bytes; ZLPs are ignored. */
export function usbResponder(
  fake: FakeFastboot,
): (bytes: Uint8Array, device: { injectIn(b: Uint8Array): void }) => Promise<void> {
  return async (bytes, device) => {
    if (bytes.byteLength === 0) return;
    const replies = fake.inData ? fake.data(bytes) : fake.command(decodeCommand(bytes));
    for (const r of replies) {
      if (isDelay(r)) await new Promise((res) => setTimeout(res, r.delayMs));
      else device.injectIn(encodeReply(r));
    }
  };
}
