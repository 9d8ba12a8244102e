/**
 * A raw image seen as sparse operations, following its scanned layout: RAW extents become data operations
 * (subarrays of the source, the partial last block padded with zeros as libsparse pads it), FILL and
 * DONT_CARE extents are checked against the bytes so a file changed since the scan is caught, not flashed.
 */
import type { ByteReader } from './byte-reader.js';
import type { SparseOp } from './decoder.js';
import { SparseFormatError } from './format.js';
import type { SparseLayout } from './layout.js';

const ZERO = new Uint8Array(4);

export async function* rawSourceOps(
  layout: SparseLayout,
  reader: ByteReader,
): AsyncGenerator<SparseOp, void> {
  const bs = layout.blockSize;
  for (const e of layout.extents) {
    const offset = e.startBlock * bs;
    const length = e.blocks * bs;
    const present = Math.max(0, Math.min(length, layout.sourceSize - offset));
    let pos = offset;
    if (e.kind === 'raw') {
      for await (const bytes of reader.slices(present)) {
        yield { kind: 'data', offset: pos, bytes };
        pos += bytes.byteLength;
      }
      if (pos !== offset + present) throw shorter(layout, pos);
      if (present < length) yield { kind: 'data', offset: pos, bytes: new Uint8Array(length - present) };
      continue;
    }
    const pattern = patternBuffer(e.kind === 'fill' ? e.value : ZERO);
    for await (const bytes of reader.slices(present)) {
      if (!matchesWord(bytes, pattern, pos - offset)) {
        throw new SparseFormatError(
          `image does not match its scan near byte ${pos}: expected ${e.kind === 'fill' ? 'a fill pattern' : 'zeros'}; was the file changed while flashing?`,
        );
      }
      pos += bytes.byteLength;
    }
    if (pos !== offset + present) throw shorter(layout, pos);
    yield e.kind === 'fill'
      ? { kind: 'fill', offset, length, value: e.value }
      : { kind: 'skip', offset, length };
  }
  if (!(await reader.atEnd())) {
    throw new SparseFormatError(
      `raw image is longer than the scanned ${layout.sourceSize} bytes; was the file changed while flashing?`,
    );
  }
}

function shorter(layout: SparseLayout, at: number): SparseFormatError {
  return new SparseFormatError(
    `raw image ended at byte ${at}, expected ${layout.sourceSize} bytes; the file is incomplete or changed`,
  );
}

const PATTERN_SPAN = 64 * 1024;

/**
 * A buffer of the word repeated, 4 bytes longer than the span so any phase can be compared with memcmp.
 * The last one is reused: runs of one fill value are the common case, and memory stays one span.
 */
let lastPattern: Buffer = Buffer.alloc(PATTERN_SPAN + 4);
function patternBuffer(word: Uint8Array): Buffer {
  if (
    !(
      lastPattern[0] === word[0] &&
      lastPattern[1] === word[1] &&
      lastPattern[2] === word[2] &&
      lastPattern[3] === word[3]
    )
  ) {
    lastPattern = Buffer.alloc(PATTERN_SPAN + 4, word);
  }
  return lastPattern;
}

function matchesWord(bytes: Uint8Array, pattern: Buffer, phase: number): boolean {
  for (let at = 0; at < bytes.byteLength; at += PATTERN_SPAN) {
    const n = Math.min(PATTERN_SPAN, bytes.byteLength - at);
    const p = (phase + at) & 3;
    const view = Buffer.from(bytes.buffer, bytes.byteOffset + at, n);
    if (!view.equals(pattern.subarray(p, p + n))) return false;
  }
  return true;
}
