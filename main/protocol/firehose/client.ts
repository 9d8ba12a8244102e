/**
 * Firehose host client over a byte stream (the programmer's XML + raw sector protocol). One command at a
 * time: send a document, collect `<log>` lines until `<response value="ACK|NAK">`, then (unless the device
 * entered raw mode) the logs that follow the response within LOG_TAIL_MS. NAK becomes FirehoseNakError with
 * those logs. Limits follow qdl: 10 s for a command's answer and for each raw chunk, 120 s for the final ACK
 * of a write (the device flushes a large image before it answers).
 */
import { EventEmitter } from 'node:events';
import { DisconnectedError, TimeoutError } from '../../transport/errors.js';
import type { ByteProgress, StreamLink } from '../../transport/types.js';
import { FirehoseNakError, FirehoseProtocolError, StorageDetectError } from './errors.js';
import { FirehoseReader } from './framing.js';
import { buildXml, parseXml, XmlFormatError } from './xml.js';

export const STORAGE_TYPES = ['emmc', 'ufs', 'nand'] as const;
export type StorageType = (typeof STORAGE_TYPES)[number];

export const COMMAND_TIMEOUT_MS = 10_000;
export const CHUNK_TIMEOUT_MS = 10_000;
export const FINAL_ACK_TIMEOUT_MS = 120_000;
/** After a response, logs still arriving within this much silence belong to it (qdl/edl read on ~100 ms). */
export const LOG_TAIL_MS = 100;
export const DEFAULT_MAX_PAYLOAD = 1 << 20;

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface Reply {
  readonly attrs: Readonly<Record<string, string>>;
  readonly logs: readonly string[];
}

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

export interface FirehoseEvents {
  log: [string];
}

const io = (timeoutMs: number, opts: CallOptions) => ({
  timeoutMs,
  ...(opts.signal ? { signal: opts.signal } : {}),
});

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

export class FirehoseClient {
  readonly reader: FirehoseReader;
  readonly events = new EventEmitter<FirehoseEvents>();
  /** Every `<log>` line the device sent this session, for the report. */
  readonly log: string[] = [];
  #maxPayload = DEFAULT_MAX_PAYLOAD;
  #maxPayloadFrom = DEFAULT_MAX_PAYLOAD;
  #queue: Promise<unknown> = Promise.resolve();

  /** `pending`: bytes already read (e.g. by Sahara detecting `<?xml`). */
  constructor(
    readonly link: StreamLink,
    pending?: Uint8Array,
  ) {
    this.reader = new FirehoseReader(link, pending);
  }

  get maxPayloadToTarget(): number {
    return this.#maxPayload;
  }

  /** One exchange at a time; a failure other than NAK leaves the sides out of step, so the link is closed. */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const guarded = async () => {
      try {
        return await work();
      } catch (err) {
        if (!(err instanceof FirehoseNakError)) await this.link.close();
        throw err;
      }
    };
    const run = this.#queue.then(guarded, guarded);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #document(timeoutMs: number, opts: CallOptions): Promise<ReturnType<typeof parseXml>> {
    const text = await this.reader.nextDocument(io(timeoutMs, opts));
    try {
      const doc = parseXml(text);
      if (doc.root !== 'data') throw new XmlFormatError(`root <${doc.root}> instead of <data>`);
      return doc;
    } catch (err) {
      if (err instanceof XmlFormatError) throw new FirehoseProtocolError(err.message, { cause: err });
      throw err;
    }
  }

  #keepLog(logs: string[], value: string): void {
    logs.push(value);
    this.log.push(value);
    this.events.emit('log', value);
  }

  /** Read until a response; then the trailing logs (not in raw mode: raw data follows at once). */
  async #response(command: string, timeoutMs: number, opts: CallOptions): Promise<Reply> {
    const logs: string[] = [];
    let response: Readonly<Record<string, string>> | null = null;
    while (!response) {
      const doc = await this.#document(timeoutMs, opts);
      for (const el of doc.children) {
        if (el.tag === 'log') this.#keepLog(logs, el.attrs.value ?? '');
        else if (el.tag === 'response') response = el.attrs;
      }
    }
    const raw = response.rawmode === 'true';
    if (!raw) await this.#tail(logs, opts);
    if (response.value === 'NAK') throw new FirehoseNakError(command, logs, response);
    if (response.value !== 'ACK')
      throw new FirehoseProtocolError(`response value '${response.value}' to ${command}`);
    return { attrs: response, logs };
  }

  async #tail(logs: string[], opts: CallOptions): Promise<void> {
    for (;;) {
      let doc: ReturnType<typeof parseXml>;
      try {
        doc = await this.#document(LOG_TAIL_MS, opts);
      } catch (err) {
        // Silence ends the logs; so does a device that restarts right after its ACK (power reset).
        if (err instanceof TimeoutError || err instanceof DisconnectedError) return;
        throw err;
      }
      for (const el of doc.children) {
        if (el.tag === 'log') this.#keepLog(logs, el.attrs.value ?? '');
        else if (el.tag === 'response') throw new FirehoseProtocolError('a second response to one command');
      }
    }
  }

  async #send(tag: string, attrs: Record<string, string>, opts: CallOptions): Promise<void> {
    await this.link.write(Buffer.from(buildXml([{ tag, attrs }])), io(COMMAND_TIMEOUT_MS, opts));
  }

  /**
   * Read and keep whatever the device says unasked (a programmer's banner, its answer to a Sahara probe
   * that reached it) until LOG_TAIL_MS of silence, so the next command's reply is really its own.
   */
  drain(opts: CallOptions = {}): Promise<readonly string[]> {
    return this.#exclusive(async () => {
      const logs: string[] = [];
      for (;;) {
        let doc: ReturnType<typeof parseXml>;
        try {
          doc = await this.#document(LOG_TAIL_MS, opts);
        } catch (err) {
          if (err instanceof TimeoutError) return logs;
          throw err;
        }
        for (const el of doc.children) if (el.tag === 'log') this.#keepLog(logs, el.attrs.value ?? '');
      }
    });
  }

  /** Send a command and wait for its ACK. @throws FirehoseNakError with the device's log */
  command(tag: string, attrs: Record<string, string>, opts: CallOptions = {}): Promise<Reply> {
    return this.#exclusive(async () => {
      await this.#send(tag, attrs, opts);
      return this.#response(tag, COMMAND_TIMEOUT_MS, opts);
    });
  }

  /**
   * configure, with payload-size negotiation: the device's ACK states the size it will take; a NAK carrying
   * MaxPayloadSizeToTargetInBytes is its counter-offer, and configure is sent again with that value.
   */
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
   * Find storage type and sector size: configure with each type until one is accepted, then read sector 1
   * at 512 and 4096 bytes until one is accepted. @throws StorageDetectError naming what was tried
   */
  async detectStorage(
    opts: CallOptions & { prefer?: StorageType } = {},
  ): Promise<ConfigureResult & { sectorSize: number }> {
    const order = opts.prefer
      ? [opts.prefer, ...STORAGE_TYPES.filter((t) => t !== opts.prefer)]
      : (['ufs', 'emmc', 'nand'] as const);
    const tried: string[] = [];
    const logs: string[] = [];
    for (const storage of order) {
      tried.push(storage);
      let cfg: ConfigureResult;
      try {
        cfg = await this.configure(storage, opts);
      } catch (err) {
        if (!(err instanceof FirehoseNakError)) throw err;
        logs.push(...err.deviceLog);
        continue;
      }
      for (const sectorSize of storage === 'emmc' ? [512, 4096] : [4096, 512]) {
        tried.push(`${storage} ${sectorSize}-byte sectors`);
        try {
          await this.read(
            { sectorSize, physicalPartition: 0, startSector: 1, numSectors: 1 },
            () => {},
            opts,
          );
          return { ...cfg, sectorSize };
        } catch (err) {
          if (!(err instanceof FirehoseNakError)) throw err;
          logs.push(...err.deviceLog);
        }
      }
    }
    throw new StorageDetectError(tried, logs);
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
    return this.#exclusive(async () => {
      await this.#send(
        'program',
        { ...rangeAttrs(range), filename: range.filename ?? '', label: range.label ?? '' },
        opts,
      );
      const setup = await this.#response('program', COMMAND_TIMEOUT_MS, opts);
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
      return this.#response('program', FINAL_ACK_TIMEOUT_MS, opts);
    });
  }

  /** read: the range's bytes, chunk by chunk, to `sink`. */
  read(
    range: SectorRange,
    sink: (chunk: Uint8Array) => void | Promise<void>,
    opts: CallOptions & { onProgress?: ByteProgress } = {},
  ): Promise<Reply> {
    return this.#exclusive(async () => {
      await this.#send('read', rangeAttrs(range), opts);
      const setup = await this.#response('read', COMMAND_TIMEOUT_MS, opts);
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
      return this.#response('read', FINAL_ACK_TIMEOUT_MS, opts);
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
    return this.#exclusive(async () => {
      await this.#send('erase', attrs, opts);
      return this.#response('erase', FINAL_ACK_TIMEOUT_MS, opts);
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
    const reply = await this.#exclusive(async () => {
      await this.#send('getsha256digest', rangeAttrs(range), opts);
      return this.#response('getsha256digest', FINAL_ACK_TIMEOUT_MS, opts);
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
