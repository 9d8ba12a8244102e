/**
 * Firehose framing on a byte stream (serial COM port, TCP). USB keeps message boundaries; a stream does
 * not, so documents are split on `<?xml … </data>` and whatever follows the last document (the start of
 * raw sector data, or the next document) is kept for the next read — bkerler/edl and qdl's serial support
 * do the same.
 */
import type { IoOptions } from '../../transport/deadline.js';
import type { StreamLink } from '../../transport/types.js';
import { FirehoseProtocolError } from './errors.js';

/** What the reader needs of a link: a StreamLink, or the virtual device's own end of one. */
export type ByteSource = Pick<StreamLink, 'read' | 'readExactly'>;

const START = Buffer.from('<?xml');
const END = Buffer.from('</data>');
/** Larger than any MaxXMLSizeInBytes seen (4096) with room for long logs. */
export const MAX_DOCUMENT = 64 * 1024;

export class FirehoseReader {
  #pending: Buffer;

  constructor(
    readonly link: ByteSource,
    pending: Uint8Array = new Uint8Array(0),
  ) {
    this.#pending = Buffer.from(pending);
  }

  /** Bytes read from the link but not yet consumed. */
  get buffered(): number {
    return this.#pending.byteLength;
  }

  /** The next whole XML document as text. @throws FirehoseProtocolError on garbage or an oversized document */
  async nextDocument(opts: IoOptions): Promise<string> {
    for (;;) {
      const start = this.#pending.indexOf(START);
      if (start > 0) {
        const junk = this.#pending.subarray(0, start);
        // Firehose devices pad with NULs/newlines between documents; anything else is a broken stream.
        if (junk.some((b) => b !== 0 && b !== 0x0a && b !== 0x0d && b !== 0x20))
          throw new FirehoseProtocolError(
            `${junk.byteLength} bytes of non-XML data where a document was expected`,
          );
        this.#pending = this.#pending.subarray(start);
        continue;
      }
      if (start === 0) {
        const end = this.#pending.indexOf(END);
        if (end >= 0) {
          const stop = end + END.byteLength;
          const doc = this.#pending.subarray(0, stop).toString('utf8');
          this.#pending = this.#pending.subarray(stop);
          return doc;
        }
      } else if (
        this.#pending.byteLength > START.byteLength &&
        !this.#pending.every((b) => b === 0 || b === 0x0a || b === 0x0d || b === 0x20)
      ) {
        throw new FirehoseProtocolError('non-XML data where a document was expected');
      }
      if (this.#pending.byteLength > MAX_DOCUMENT)
        throw new FirehoseProtocolError(`a document longer than ${MAX_DOCUMENT} bytes`);
      const more = await this.link.read({ ...opts, maxBytes: MAX_DOCUMENT });
      this.#pending = Buffer.concat([this.#pending, more]);
    }
  }

  /** Exactly `length` raw bytes (sector data), taking what is buffered first. */
  async readRaw(length: number, opts: IoOptions): Promise<Uint8Array> {
    if (this.#pending.byteLength >= length) {
      const out = this.#pending.subarray(0, length);
      this.#pending = this.#pending.subarray(length);
      return out;
    }
    const head = this.#pending;
    this.#pending = Buffer.alloc(0);
    const rest = await this.link.readExactly(length - head.byteLength, opts);
    return head.byteLength === 0 ? rest : Buffer.concat([head, rest]);
  }
}
