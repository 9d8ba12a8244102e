/**
 * Why a file is not a readable package, in a technician's words. tar-stream applies extension headers
 * silently and fails in its own terms ("Invalid tar header…"), so the container reader hands its failures
 * here: the file itself is looked at (first bytes, the raw header block where the next entry should start)
 * and the refusal names what is there. The library's own text stays in `detail` for support.
 */
import { promises as fs } from 'node:fs';
import { FlashlineError } from '../common/errors.js';
import { PKG, pkgError } from './codes.js';

export const BLOCK = 512;
export const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK;
const TYPEFLAG_AT = 156;

/** The words every "this is not a package" refusal starts with (status 21). */
export function notAPackage(why: string, detail?: unknown): FlashlineError {
  return pkgError(PKG.malformed, `This file is not a Flashline package, or it is damaged (${why}).`, detail);
}

/**
 * What a raw 512-byte tar header is when it is one of the extension headers the format refuses (pax `x`/`g`,
 * GNU `L`/`K`/`N` long names, GNU `V`/`M`/`S`/`D`). tar-stream applies these silently to the next entry, so
 * the reader looks at the raw typeflag itself.
 */
function extensionHeader(block: Buffer): string | undefined {
  // Only a real header names its type: random or damaged bytes have a typeflag too (3 % of random blocks
  // land on one of these letters), and calling them "a pax header" would send support the wrong way.
  if (!checksumHolds(block)) return undefined;
  switch (String.fromCharCode(block[TYPEFLAG_AT] ?? 0)) {
    case 'x':
      return 'a pax extended header';
    case 'g':
      return 'a pax global header';
    case 'L':
    case 'K':
    case 'N':
      return 'a GNU long-name header';
    case 'V':
    case 'M':
    case 'S':
    case 'D':
      return 'a GNU extension header';
    default:
      return undefined;
  }
}

const CHECKSUM_AT = 148;
const CHECKSUM_LENGTH = 8;

/** The ustar header checksum: the byte sum with the checksum field read as spaces, stored in octal. */
function checksumHolds(block: Buffer): boolean {
  const stored = /^\s*([0-7]{1,7})[\0 ]/.exec(
    block.toString('latin1', CHECKSUM_AT, CHECKSUM_AT + CHECKSUM_LENGTH),
  );
  if (!stored) return false;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) {
    sum += i >= CHECKSUM_AT && i < CHECKSUM_AT + CHECKSUM_LENGTH ? 0x20 : (block[i] ?? 0);
  }
  return sum === Number.parseInt(stored[1]!, 8);
}

/** First bytes of formats people mistake for a package, and how to say so. */
const LOOKALIKES: readonly { magic: Buffer; what: string }[] = [
  { magic: Buffer.from([0x1f, 0x8b]), what: 'it is a gzip-compressed file' },
  { magic: Buffer.from('PK\x03\x04', 'latin1'), what: 'it is a ZIP archive' },
  { magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), what: 'it is an xz-compressed file' },
  { magic: Buffer.from('BZh', 'latin1'), what: 'it is a bzip2-compressed file' },
  { magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), what: 'it is a zstd-compressed file' },
];

async function readBlockAt(path: string, offset: number): Promise<Buffer | undefined> {
  try {
    const handle = await fs.open(path, 'r');
    try {
      const buf = Buffer.alloc(BLOCK);
      const { bytesRead } = await handle.read(buf, 0, BLOCK, offset);
      return buf.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

/** The extension header at `offset` (see extensionHeader), if that is what lies there. */
export async function extensionHeaderAt(path: string, offset: number): Promise<string | undefined> {
  const block = await readBlockAt(path, offset);
  return block && block.length === BLOCK ? extensionHeader(block) : undefined;
}

export const neverWritten = (kind: string, where: string) =>
  notAPackage(`it holds ${kind} ${where}; packages made by 'flashline pack' never do`, { header: kind });

/** Why the bytes at a header position are not the header the format puts there, in a technician's words. */
export async function explainHeaderAt(path: string, offset: number, where: string): Promise<FlashlineError> {
  const kind = await extensionHeaderAt(path, offset);
  return kind ? neverWritten(kind, where) : notAPackage(`unexpected data ${where}, at byte ${offset}`);
}

/**
 * Turn whatever stopped the read into a FlashlineError. Errors of the tar library (a bad header checksum,
 * an early end) are explained by looking at the file — never passed on in tar's words; the library's own
 * text is kept in `detail` for support.
 */
export async function explainFailure(err: unknown, path: string, headerAt: number): Promise<FlashlineError> {
  if (err instanceof FlashlineError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT' || e?.code === 'EACCES' || e?.code === 'EISDIR') {
    return pkgError(PKG.verifyFailed, `Cannot read package file ${path} (${e.code}).`);
  }
  if (e?.name === 'AbortError') return new FlashlineError('cancelled', 'Reading the package was cancelled.');
  const detail = { offset: headerAt, cause: e?.message ?? String(err) };
  const block = await readBlockAt(path, headerAt);
  if (headerAt === 0 && block) {
    const lookalike = LOOKALIKES.find((l) => block.subarray(0, l.magic.length).equals(l.magic));
    if (lookalike) return notAPackage(lookalike.what, detail);
  }
  const kind = await extensionHeaderAt(path, headerAt);
  if (kind) return neverWritten(kind, `at byte ${headerAt}`);
  if (/unexpected end/i.test(detail.cause)) {
    return notAPackage('the file ends early: an incomplete download or copy?', detail);
  }
  return notAPackage(`its contents are not laid out as a package at byte ${headerAt}`, detail);
}
