/**
 * Metadata the virtual device reads from the first 4 KiB of a `boot` image to know which version it booted
 * and that image's rollback index (what AVB's vbmeta would tell a real bootloader). Format (ASCII lines,
 * zero-padded to 4096 bytes):
 *
 *   FLASHLINE-VIRTUAL-IMAGE v1
 *   version=<1..64 printable chars>
 *   rollback-index=<decimal>
 *
 * Images without the header boot with version `unknown` and rollback index 0.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

export const IMAGE_MAGIC = 'FLASHLINE-VIRTUAL-IMAGE v1';
export const IMAGE_HEADER_SIZE = 4096;

export interface ImageMetadata {
  readonly version: string;
  readonly rollbackIndex: number;
  /** Security patch level `YYYY-MM` (Android boot images only; see boot-image-info.ts). */
  readonly securityPatch?: string;
}

export const UNKNOWN_IMAGE: ImageMetadata = { version: 'unknown', rollbackIndex: 0 };

const VERSION_RE = /^[\x21-\x7e]{1,64}$/;

export function encodeImageHeader(meta: ImageMetadata): Buffer {
  if (!VERSION_RE.test(meta.version)) {
    throw new RangeError(`image version '${meta.version}' must be 1-64 printable ASCII characters`);
  }
  if (!Number.isSafeInteger(meta.rollbackIndex) || meta.rollbackIndex < 0) {
    throw new RangeError(`rollback index ${meta.rollbackIndex} must be a non-negative integer`);
  }
  const header = Buffer.alloc(IMAGE_HEADER_SIZE);
  header.write(`${IMAGE_MAGIC}\nversion=${meta.version}\nrollback-index=${meta.rollbackIndex}\n`, 'latin1');
  return header;
}

/** Parse the header; returns null when the bytes do not start with a well-formed header. */
export function parseImageHeader(bytes: Uint8Array): ImageMetadata | null {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, IMAGE_HEADER_SIZE))
    .toString('latin1')
    .replace(/\0[\s\S]*$/, '');
  const lines = text.split('\n');
  if (lines[0] !== IMAGE_MAGIC) return null;
  let version: string | undefined;
  let rollbackIndex: number | undefined;
  for (const line of lines.slice(1)) {
    const m = /^([a-z-]+)=(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'version' && VERSION_RE.test(m[2]!)) version = m[2];
    if (m[1] === 'rollback-index' && /^\d{1,16}$/.test(m[2]!) && Number.isSafeInteger(Number(m[2])))
      rollbackIndex = Number(m[2]);
  }
  if (version === undefined || rollbackIndex === undefined) return null;
  return { version, rollbackIndex };
}

export interface VirtualImageOptions extends ImageMetadata {
  /** Total image size in bytes (at least the 4 KiB header). */
  readonly size: number;
  /** Seed for the deterministic pseudo-random payload; same seed, same bytes. */
  readonly seed?: string;
}

/**
 * A virtual boot image as a stream: header, then a deterministic pseudo-random payload. The payload is
 * AES-128-CTR over zeros (native code, GiB/s) so multi-GiB images cost no JS per byte and no memory.
 */
export function makeVirtualImage(options: VirtualImageOptions): Readable {
  const header = encodeImageHeader(options);
  if (!Number.isSafeInteger(options.size) || options.size < IMAGE_HEADER_SIZE) {
    throw new RangeError(`image size ${options.size} must be an integer of at least ${IMAGE_HEADER_SIZE}`);
  }
  const key = createHash('sha256')
    .update(`flashline-virtual-image:${options.seed ?? `${options.version}/${options.rollbackIndex}`}`)
    .digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  const zeros = Buffer.alloc(1024 * 1024);
  let left = options.size - IMAGE_HEADER_SIZE;
  let sentHeader = false;
  return new Readable({
    highWaterMark: zeros.byteLength,
    read() {
      if (!sentHeader) {
        sentHeader = true;
        this.push(header);
        return;
      }
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, zeros.byteLength);
      left -= n;
      this.push(cipher.update(zeros.subarray(0, n)));
    },
  });
}
