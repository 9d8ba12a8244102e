/**
 * The Firehose exchange: one command at a time over a byte stream — send a document, collect `<log>` lines
 * until `<response value="ACK|NAK">`, then (unless the device entered raw mode) the logs that follow the
 * response within LOG_TAIL_MS. NAK becomes FirehoseNakError with those logs. The commands themselves are in
 * client.ts, built on these primitives.
 */
import { EventEmitter } from 'node:events';
import { DisconnectedError, TimeoutError } from '../../transport/errors.js';
import type { StreamLink } from '../../transport/types.js';
import { FirehoseNakError, FirehoseProtocolError } from './errors.js';
import { FirehoseReader } from './framing.js';
import { buildXml, parseXml, XmlFormatError } from './xml.js';

export const COMMAND_TIMEOUT_MS = 10_000;
export const CHUNK_TIMEOUT_MS = 10_000;
export const FINAL_ACK_TIMEOUT_MS = 120_000;
/** After a response, logs still arriving within this much silence belong to it (qdl/edl read on ~100 ms). */
export const LOG_TAIL_MS = 100;

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface Reply {
  readonly attrs: Readonly<Record<string, string>>;
  readonly logs: readonly string[];
}

export interface FirehoseEvents {
  log: [string];
}

export const io = (timeoutMs: number, opts: CallOptions) => ({
  timeoutMs,
  ...(opts.signal ? { signal: opts.signal } : {}),
});

export class FirehoseExchange {
  readonly reader: FirehoseReader;
  readonly events = new EventEmitter<FirehoseEvents>();
  /** Every `<log>` line the device sent this session, for the report. */
  readonly log: string[] = [];
  #queue: Promise<unknown> = Promise.resolve();

  /** `pending`: bytes already read (e.g. by Sahara detecting `<?xml`). */
  constructor(
    readonly link: StreamLink,
    pending?: Uint8Array,
  ) {
    this.reader = new FirehoseReader(link, pending);
  }

  /** One exchange at a time; a failure other than NAK leaves the sides out of step, so the link is closed. */
  protected exclusive<T>(work: () => Promise<T>): Promise<T> {
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

  protected async document(timeoutMs: number, opts: CallOptions): Promise<ReturnType<typeof parseXml>> {
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

  protected keepLog(logs: string[], value: string): void {
    logs.push(value);
    this.log.push(value);
    this.events.emit('log', value);
  }

  /** Read until a response; then the trailing logs (not in raw mode: raw data follows at once). */
  protected async response(command: string, timeoutMs: number, opts: CallOptions): Promise<Reply> {
    const logs: string[] = [];
    let response: Readonly<Record<string, string>> | null = null;
    while (!response) {
      const doc = await this.document(timeoutMs, opts);
      for (const el of doc.children) {
        if (el.tag === 'log') this.keepLog(logs, el.attrs.value ?? '');
        else if (el.tag === 'response') response = el.attrs;
      }
    }
    const raw = response.rawmode === 'true';
    if (!raw) await this.tail(logs, opts);
    if (response.value === 'NAK') throw new FirehoseNakError(command, logs, response);
    if (response.value !== 'ACK')
      throw new FirehoseProtocolError(`response value '${response.value}' to ${command}`);
    return { attrs: response, logs };
  }

  protected async tail(logs: string[], opts: CallOptions): Promise<void> {
    for (;;) {
      let doc: ReturnType<typeof parseXml>;
      try {
        doc = await this.document(LOG_TAIL_MS, opts);
      } catch (err) {
        // Silence ends the logs; so does a device that restarts right after its ACK (power reset).
        if (err instanceof TimeoutError || err instanceof DisconnectedError) return;
        throw err;
      }
      for (const el of doc.children) {
        if (el.tag === 'log') this.keepLog(logs, el.attrs.value ?? '');
        else if (el.tag === 'response') throw new FirehoseProtocolError('a second response to one command');
      }
    }
  }

  protected async send(tag: string, attrs: Record<string, string>, opts: CallOptions): Promise<void> {
    await this.link.write(Buffer.from(buildXml([{ tag, attrs }])), io(COMMAND_TIMEOUT_MS, opts));
  }

  /**
   * Read and keep whatever the device says unasked (a programmer's banner, its answer to a Sahara probe
   * that reached it) until LOG_TAIL_MS of silence, so the next command's reply is really its own.
   */
  drain(opts: CallOptions = {}): Promise<readonly string[]> {
    return this.exclusive(async () => {
      const logs: string[] = [];
      for (;;) {
        let doc: ReturnType<typeof parseXml>;
        try {
          doc = await this.document(LOG_TAIL_MS, opts);
        } catch (err) {
          if (err instanceof TimeoutError) return logs;
          throw err;
        }
        for (const el of doc.children) if (el.tag === 'log') this.keepLog(logs, el.attrs.value ?? '');
      }
    });
  }

  /** Send a command and wait for its ACK. @throws FirehoseNakError with the device's log */
  command(tag: string, attrs: Record<string, string>, opts: CallOptions = {}): Promise<Reply> {
    return this.exclusive(async () => {
      await this.send(tag, attrs, opts);
      return this.response(tag, COMMAND_TIMEOUT_MS, opts);
    });
  }

  /**
   * configure, with payload-size negotiation: the device's ACK states the size it will take; a NAK carrying
   * MaxPayloadSizeToTargetInBytes is its counter-offer, and configure is sent again with that value.
   */
}
