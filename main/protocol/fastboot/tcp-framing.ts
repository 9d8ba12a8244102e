/**
 * fastboot-over-TCP framing (AOSP README, "TCP Protocol v1"): after a 4-byte handshake ("FB" + 2-digit
 * version, both ways) every packet is an 8-byte big-endian length followed by the payload.
 * Pure codec, shared by the host transport and the virtual device.
 */

export const TCP_HANDSHAKE = 'FB01';
export const TCP_DEFAULT_PORT = 5554;
export const FRAME_HEADER_LENGTH = 8;

export function encodeFrameHeader(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`bad frame length ${length}`);
  const header = new Uint8Array(FRAME_HEADER_LENGTH);
  new DataView(header.buffer).setBigUint64(0, BigInt(length));
  return header;
}

export function encodeFrame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_LENGTH + payload.byteLength);
  out.set(encodeFrameHeader(payload.byteLength), 0);
  out.set(payload, FRAME_HEADER_LENGTH);
  return out;
}

/** Parse "FBnn"; returns the version number or null when the bytes are not a fastboot handshake. */
export function parseHandshake(bytes: Uint8Array): number | null {
  if (bytes.byteLength !== 4 || bytes[0] !== 0x46 || bytes[1] !== 0x42) return null;
  const digits = String.fromCharCode(bytes[2]!, bytes[3]!);
  return /^\d\d$/.test(digits) ? Number(digits) : null;
}

/**
 * Incremental frame parser: feed it chunks as they arrive (split or coalesced, any sizes) and it yields
 * frame events. Large frames are delivered as a header followed by payload slices so a multi-GiB download
 * frame never has to be held in memory.
 */
export type FrameEvent =
  | { readonly kind: 'start'; readonly length: number }
  | { readonly kind: 'data'; readonly bytes: Uint8Array }
  | { readonly kind: 'end' };

export class FrameParser {
  readonly #header = new Uint8Array(FRAME_HEADER_LENGTH);
  #headerFill = 0;
  #remaining = -1;
  readonly #maxFrame: number;

  constructor(maxFrameLength = Number.MAX_SAFE_INTEGER) {
    this.#maxFrame = maxFrameLength;
  }

  /** Bytes still expected for the current frame's payload, or -1 between frames. */
  get remaining(): number {
    return this.#remaining;
  }

  *push(chunk: Uint8Array): Generator<FrameEvent> {
    let offset = 0;
    while (offset < chunk.byteLength) {
      if (this.#remaining < 0) {
        const take = Math.min(FRAME_HEADER_LENGTH - this.#headerFill, chunk.byteLength - offset);
        this.#header.set(chunk.subarray(offset, offset + take), this.#headerFill);
        this.#headerFill += take;
        offset += take;
        if (this.#headerFill < FRAME_HEADER_LENGTH) return;
        this.#headerFill = 0;
        const length = new DataView(this.#header.buffer).getBigUint64(0);
        if (length > BigInt(this.#maxFrame)) {
          throw new RangeError(`frame of ${length} bytes exceeds the limit of ${this.#maxFrame}`);
        }
        this.#remaining = Number(length);
        yield { kind: 'start', length: this.#remaining };
        if (this.#remaining === 0) {
          this.#remaining = -1;
          yield { kind: 'end' };
        }
        continue;
      }
      const take = Math.min(this.#remaining, chunk.byteLength - offset);
      yield { kind: 'data', bytes: chunk.subarray(offset, offset + take) };
      offset += take;
      this.#remaining -= take;
      if (this.#remaining === 0) {
        this.#remaining = -1;
        yield { kind: 'end' };
      }
    }
  }
}
