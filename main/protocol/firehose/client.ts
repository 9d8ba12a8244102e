/**
 * Firehose host client over a byte stream (the programmer's XML + raw sector protocol): the commands, on the
 * exchange primitives of exchange.ts. Limits follow qdl: 10 s for a command's answer and for each raw chunk,
 * 120 s for the final ACK of a write (the device flushes a large image before it answers).
 */
import type { ByteProgress, StreamLink } from '../../transport/types.js';
import { FirehoseNakError, FirehoseProtocolError } from './errors.js';
import {
  type CallOptions,
  CHUNK_TIMEOUT_MS,
  COMMAND_TIMEOUT_MS,
  FINAL_ACK_TIMEOUT_MS,
  FirehoseExchange,
  io,
  type Reply,
} from './exchange.js';

export {
  type CallOptions,
  CHUNK_TIMEOUT_MS,
  COMMAND_TIMEOUT_MS,
  FINAL_ACK_TIMEOUT_MS,
  type FirehoseEvents,
  LOG_TAIL_MS,
  type Reply,
} from './exchange.js';

export const STORAGE_TYPES = ['emmc', 'ufs', 'nand'] as const;
export type StorageType = (typeof STORAGE_TYPES)[number];
export const DEFAULT_MAX_PAYLOAD = 1 << 20;

/** Where on the device: physical partition (LUN), sector size, first sector (number or `NUM_DISK_SECTORS-N.`). */
export interface SectorRange {
  readonly sectorSize: number;
  readonly physicalPartition: number;
  readonly startSector: number | string;
  readonly numSectors: number;
}

export interface ConfigureResult {
  readonly storage: StorageType;
  readonly maxPayloadToTarget: number;
  readonly maxPayloadFromTarget: number;
  readonly maxXmlSize: number;
  readonly attrs: Readonly<Record<string, string>>;
}

function positiveInt(attrs: Readonly<Record<string, string>>, key: string): number | undefined {
  const v = attrs[key];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}

function rangeAttrs(r: SectorRange): Record<string, string> {
  if (!Number.isSafeInteger(r.sectorSize) || r.sectorSize <= 0)
    throw new RangeError(`bad sector size ${r.sectorSize}`);
  if (!Number.isSafeInteger(r.numSectors) || r.numSectors < 0)
    throw new RangeError(`bad sector count ${r.numSectors}`);
  return {
    SECTOR_SIZE_IN_BYTES: String(r.sectorSize),
    num_partition_sectors: String(r.numSectors),
    physical_partition_number: String(r.physicalPartition),
    start_sector: String(r.startSector),
  };
}

export class FirehoseClient extends FirehoseExchange {
  #maxPayload = DEFAULT_MAX_PAYLOAD;
  #maxPayloadFrom = DEFAULT_MAX_PAYLOAD;

  /** `pending`: bytes already read (e.g. by Sahara detecting `<?xml`). */
  constructor(link: StreamLink, pending?: Uint8Array) {
    super(link, pending);
  }

  get maxPayloadToTarget(): number {
    return this.#maxPayload;
  }

  async configure(
    storage: StorageType,
    opts: CallOptions & { maxPayload?: number } = {},
  ): Promise<ConfigureResult> {
    const ask = (size: number) =>
      this.command(
        'configure',
        {
          MemoryName: storage,
          MaxPayloadSizeToTargetInBytes: String(size),
          Verbose: '0',
          ZlpAwareHost: '1',
          SkipStorageInit: '0',
          AlwaysValidate: '0',
          MaxDigestTableSizeInBytes: '2048',
        },
        opts,
      );
    let reply: Reply;
    try {
      reply = await ask(opts.maxPayload ?? DEFAULT_MAX_PAYLOAD);
    } catch (err) {
      const offer =
        err instanceof FirehoseNakError
          ? positiveInt(
              (err.detail as { response: Record<string, string> }).response,
              'MaxPayloadSizeToTargetInBytes',
            )
          : undefined;
      if (!offer || offer >= (opts.maxPayload ?? DEFAULT_MAX_PAYLOAD)) throw err;
      reply = await ask(offer);
    }
    const a = reply.attrs;
    this.#maxPayload = positiveInt(a, 'MaxPayloadSizeToTargetInBytes') ?? this.#maxPayload;
    this.#maxPayloadFrom = positiveInt(a, 'MaxPayloadSizeFromTargetInBytes') ?? this.#maxPayload;
    return {
      storage,
      maxPayloadToTarget: this.#maxPayload,
      maxPayloadFromTarget: this.#maxPayloadFrom,
      maxXmlSize: positiveInt(a, 'MaxXMLSizeInBytes') ?? 4096,
      attrs: a,
    };
  }

  /**
   * program: `size` bytes from `source` into the range, the last sector padded with zeros (the device
   * expects whole sectors). numSectors must cover size.
   */
  program(
    range: SectorRange & { readonly label?: string; readonly filename?: string },
    size: number,
    source: AsyncIterable<Uint8Array>,
    opts: CallOptions & { onProgress?: ByteProgress } = {},
  ): Promise<Reply> {
    const total = range.numSectors * range.sectorSize;
    if (!Number.isSafeInteger(size) || size < 0 || size > total)
      throw new RangeError(`${size} bytes do not fit ${range.numSectors} sectors of ${range.sectorSize}`);
    return this.exclusive(async () => {
      await this.send(
        'program',
        { ...rangeAttrs(range), filename: range.filename ?? '', label: range.label ?? '' },
        opts,
      );
      const setup = await this.response('program', COMMAND_TIMEOUT_MS, opts);
      if (setup.attrs.rawmode !== 'true')
        throw new FirehoseProtocolError('program was ACKed without entering raw mode');
      const chunk = Buffer.alloc(Math.min(this.#maxPayload, Math.max(total, 1)));
      let filled = 0;
      let sent = 0;
      const flush = async () => {
        await this.link.write(Buffer.from(chunk.subarray(0, filled)), io(CHUNK_TIMEOUT_MS, opts));
        sent += filled;
        filled = 0;
        opts.onProgress?.(Math.min(sent, size), size);
      };
      let got = 0;
      for await (const piece of source) {
        got += piece.byteLength;
        if (got > size) throw new RangeError(`the source gave more than ${size} bytes`);
        for (let at = 0; at < piece.byteLength; ) {
          const n = Math.min(chunk.byteLength - filled, piece.byteLength - at);
          chunk.set(piece.subarray(at, at + n), filled);
          filled += n;
          at += n;
          if (filled === chunk.byteLength) await flush();
        }
      }
      if (got !== size) throw new RangeError(`the source gave ${got} of ${size} bytes`);
      // Pad the last sector (and any sectors beyond the data) with zeros.
      while (sent + filled < total) {
        const n = Math.min(chunk.byteLength - filled, total - sent - filled);
        chunk.fill(0, filled, filled + n);
        filled += n;
        if (filled === chunk.byteLength) await flush();
      }
      if (filled > 0) await flush();
      return this.response('program', FINAL_ACK_TIMEOUT_MS, opts);
    });
  }

  /** read: the range's bytes, chunk by chunk, to `sink`. */
  read(
    range: SectorRange,
    sink: (chunk: Uint8Array) => void | Promise<void>,
    opts: CallOptions & { onProgress?: ByteProgress } = {},
  ): Promise<Reply> {
    return this.exclusive(async () => {
      await this.send('read', rangeAttrs(range), opts);
      const setup = await this.response('read', COMMAND_TIMEOUT_MS, opts);
      if (setup.attrs.rawmode !== 'true')
        throw new FirehoseProtocolError('read was ACKed without entering raw mode');
      const total = range.numSectors * range.sectorSize;
      for (let done = 0; done < total; ) {
        const n = Math.min(this.#maxPayloadFrom, total - done);
        const data = await this.reader.readRaw(n, io(CHUNK_TIMEOUT_MS, opts));
        await sink(data);
        done += n;
        opts.onProgress?.(done, total);
      }
      return this.response('read', FINAL_ACK_TIMEOUT_MS, opts);
    });
  }

  /** erase: the range; without sectors, the whole physical partition. */
  erase(
    range: Partial<SectorRange> & { physicalPartition: number; sectorSize: number },
    opts: CallOptions = {},
  ): Promise<Reply> {
    const attrs: Record<string, string> = {
      SECTOR_SIZE_IN_BYTES: String(range.sectorSize),
      physical_partition_number: String(range.physicalPartition),
    };
    if (range.numSectors !== undefined) attrs.num_partition_sectors = String(range.numSectors);
    if (range.startSector !== undefined) attrs.start_sector = String(range.startSector);
    return this.exclusive(async () => {
      await this.send('erase', attrs, opts);
      return this.response('erase', FINAL_ACK_TIMEOUT_MS, opts);
    });
  }

  /**
   * patch: a DISK patch as written in patch*.xml; `value` may be an expression such as
   * `CRC32(NUM_DISK_SECTORS-1.,92)` that the device evaluates (qdl sends them unevaluated).
   */
  patch(
    p: {
      sectorSize: number;
      physicalPartition: number;
      startSector: string;
      byteOffset: number;
      sizeInBytes: number;
      value: string;
    },
    opts: CallOptions = {},
  ): Promise<Reply> {
    return this.command(
      'patch',
      {
        SECTOR_SIZE_IN_BYTES: String(p.sectorSize),
        byte_offset: String(p.byteOffset),
        filename: 'DISK',
        physical_partition_number: String(p.physicalPartition),
        size_in_bytes: String(p.sizeInBytes),
        start_sector: p.startSector,
        value: p.value,
      },
      opts,
    );
  }

  /** getsha256digest of a range: the digest comes in a `<log>` line; the 64-hex-digit token is taken. */
  async sha256(range: SectorRange, opts: CallOptions = {}): Promise<string> {
    const reply = await this.exclusive(async () => {
      await this.send('getsha256digest', rangeAttrs(range), opts);
      return this.response('getsha256digest', FINAL_ACK_TIMEOUT_MS, opts);
    });
    for (const line of reply.logs) {
      const m = /(?:0x)?([0-9a-fA-F]{64})\b/.exec(line);
      if (m) return m[1]!.toLowerCase();
    }
    throw new FirehoseProtocolError('getsha256digest was ACKed but no log line carried a digest');
  }

  /** getstorageinfo: the JSON `storage_info` object from the logs when present, and the raw lines. */
  async storageInfo(
    physicalPartition: number,
    opts: CallOptions = {},
  ): Promise<{ info?: Record<string, unknown>; logs: readonly string[] }> {
    const reply = await this.command(
      'getstorageinfo',
      { physical_partition_number: String(physicalPartition) },
      opts,
    );
    for (const line of reply.logs) {
      const at = line.indexOf('{');
      if (at < 0) continue;
      try {
        const parsed = JSON.parse(line.slice(at)) as { storage_info?: Record<string, unknown> };
        if (parsed && typeof parsed.storage_info === 'object')
          return { info: parsed.storage_info, logs: reply.logs };
      } catch {
        // Not JSON: some programmers print plain text; the lines stay available.
      }
    }
    return { logs: reply.logs };
  }

  nop(opts: CallOptions = {}): Promise<Reply> {
    return this.command('nop', {}, opts);
  }

  setBootableStorageDrive(value: number, opts: CallOptions = {}): Promise<Reply> {
    return this.command('setbootablestoragedrive', { value: String(value) }, opts);
  }

  /** power reset: the device ACKs, then restarts after DelayInSeconds. */
  reset(opts: CallOptions & { delaySeconds?: number } = {}): Promise<Reply> {
    return this.command('power', { value: 'reset', DelayInSeconds: String(opts.delaySeconds ?? 1) }, opts);
  }
}
