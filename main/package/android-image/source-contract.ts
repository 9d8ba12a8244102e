/** What every Android image source (zip or folder) offers, its limits, and how it refuses an input. */
import type { FlashlineError } from '../../common/errors.js';
import { PKG, pkgError } from '../codes.js';

/** Entries a factory image could plausibly hold; more is not an Android image. */
export const MAX_ZIP_ENTRIES = 4096;
/** Largest image accepted (a whole super of a large phone is ~10 GiB; 1 TiB is beyond any partition). */
export const MAX_IMAGE_BYTES = 2 ** 40;

export interface AndroidImageSource {
  /** For messages: the zip, `outer.zip › image-….zip`, or the folder. */
  readonly description: string;
  /** Top-level file name → uncompressed size. */
  readonly files: ReadonlyMap<string, number>;
  /** What was seen and left aside (sub-folders, bootloader/radio images of a factory zip). */
  readonly notes: readonly string[];
  /** The file's bytes, validated (size and, in a zip, CRC-32) as they stream. */
  open(name: string): AsyncIterable<Buffer>;
  /** The first `n` bytes (fewer when the file is shorter). */
  head(name: string, n: number): Promise<Buffer>;
  close(): Promise<void>;
}

export const refuse = (
  message: string,
  reason: string,
  detail: Record<string, unknown> = {},
): FlashlineError => pkgError(PKG.malformed, message, { reason, ...detail });
