/**
 * CRC32 (IEEE 802.3, as libsparse uses) helpers. Byte data goes through Node's zlib.crc32 (native); FILL and
 * DONT_CARE regions are folded in arithmetically with the GF(2) "combine" technique zlib documents, so a
 * 64 GiB DONT_CARE chunk costs microseconds instead of hashing 64 GiB of zeros. Hand-written because
 * Node exposes crc32 but not crc32_combine.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';

export function crc32(bytes: Uint8Array, previous = 0): number {
  return zlibCrc32(bytes, previous) >>> 0;
}

function matrixTimes(mat: Uint32Array, vec: number): number {
  let sum = 0;
  let v = vec >>> 0;
  for (let i = 0; v !== 0; i++, v >>>= 1) {
    if (v & 1) sum ^= mat[i]!;
  }
  return sum >>> 0;
}

function matrixSquare(square: Uint32Array, mat: Uint32Array): void {
  for (let n = 0; n < 32; n++) square[n] = matrixTimes(mat, mat[n]!);
}

/** CRC of A followed by B, given crc(A), crc(B) and B's length in bytes (any safe integer). */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (lengthB <= 0) return crcA >>> 0;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  // Operator for one zero bit, then squared to two and four bits; each later square doubles it.
  odd[0] = 0xedb88320;
  for (let n = 1, row = 1; n < 32; n++, row <<= 1) odd[n] = row >>> 0;
  matrixSquare(even, odd);
  matrixSquare(odd, even);
  let crc = crcA >>> 0;
  let len = lengthB;
  for (;;) {
    matrixSquare(even, odd);
    if (len % 2 === 1) crc = matrixTimes(even, crc);
    len = Math.floor(len / 2);
    if (len === 0) break;
    matrixSquare(odd, even);
    if (len % 2 === 1) crc = matrixTimes(odd, crc);
    len = Math.floor(len / 2);
    if (len === 0) break;
  }
  return (crc ^ crcB) >>> 0;
}

/** CRC of `count` back-to-back copies of a unit whose CRC is `unitCrc` and length `unitLength`. */
export function crc32Repeat(unitCrc: number, unitLength: number, count: number): number {
  let result = 0;
  let base = unitCrc >>> 0;
  let baseLength = unitLength;
  let n = count;
  while (n > 0) {
    if (n % 2 === 1) result = crc32Combine(result, base, baseLength);
    n = Math.floor(n / 2);
    if (n > 0) {
      base = crc32Combine(base, base, baseLength);
      baseLength *= 2;
    }
  }
  return result;
}

/** Extend a running CRC by `length` bytes (a multiple of 4) of the 4-byte `pattern` repeated. */
export function crc32ExtendPattern(previous: number, pattern: Uint8Array, length: number): number {
  if (length === 0) return previous >>> 0;
  const unit = crc32(pattern.subarray(0, 4));
  return crc32Combine(previous, crc32Repeat(unit, 4, length / 4), length);
}

const ZERO_WORD = new Uint8Array(4);

/** Extend a running CRC by `length` zero bytes (a multiple of 4): how DONT_CARE counts in the image CRC. */
export function crc32ExtendZeros(previous: number, length: number): number {
  return crc32ExtendPattern(previous, ZERO_WORD, length);
}
