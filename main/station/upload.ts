/**
 * Package upload for station mode: a browser cannot hand the station a local path, so the page POSTs the
 * `.flp` file here (token required) and gets back a path to open with `packages.open`. The body is streamed
 * to disk through the atomic-write helper with a byte cap enforced as it flows — never buffered whole — and
 * nothing is trusted on arrival: the package is verified when opened.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { type ErrorData, FlashlineError, toErrorData } from '../common/errors.js';
import { flashlineHome } from '../common/paths.js';
import { describeStorageFault, storageFault } from '../common/station-storage.js';
import type { UploadRetention } from './upload-retention.js';

export const UPLOAD_PATH = '/upload';
/** Large enough for a full phone firmware; a station can lower it. */
export const DEFAULT_UPLOAD_LIMIT = 16 * 1024 ** 3;
export const FILENAME_HEADER = 'x-flashline-filename';

/** Where uploads land unless a station says otherwise. */
export const defaultUploadDir = (): string => join(flashlineHome(), 'uploads');

export interface UploadOptions {
  readonly limitBytes: number;
  /** Where uploads land; `<FLASHLINE_HOME>/uploads` by default. */
  readonly dir?: string;
  /** Told of each stored upload, so a newer one replaces the older (see upload-retention.ts). */
  readonly retention?: UploadRetention;
}

/**
 * Where an upload is kept below the upload directory: a fresh random folder (so two uploads of the same
 * name never collide) holding the file under its own, sanitized name. Throws saying what is wrong.
 */
export function uploadFileName(raw: string | undefined): string {
  let name: string;
  try {
    name = decodeURIComponent(raw ?? '');
  } catch {
    throw new FlashlineError(
      'bad_input',
      'The file name of the upload is not valid. Rename the file and retry.',
    );
  }
  const base = name.split(/[\\/]/).pop() ?? '';
  if (!/\.flp$/i.test(base)) {
    throw new FlashlineError(
      'bad_input',
      `'${base.slice(0, 100) || '(no name)'}' is not a Flashline package: choose a .flp file.`,
    );
  }
  const safe = base.replace(/[^A-Za-z0-9._-]/g, '_').slice(-120);
  return join(randomBytes(8).toString('hex'), safe.startsWith('.') ? `_${safe}` : safe);
}

/** A limit in the units a technician reads (4 GiB, 512 MiB), exact bytes when it is not a round number. */
export function describeLimit(bytes: number): string {
  for (const [unit, size] of [
    ['TiB', 1024 ** 4],
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}

function tooLarge(limit: number): FlashlineError {
  return new FlashlineError(
    'too_large',
    `The upload is larger than this station accepts (${describeLimit(limit)}). Restart the station with a larger --max-upload, or copy the file into the station's package folder and open it from there.`,
  );
}

async function* capped(source: AsyncIterable<Uint8Array>, limit: number): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.byteLength;
    if (total > limit) throw tooLarge(limit);
    yield chunk;
  }
}

function reply(res: ServerResponse, status: number, body: ErrorData | { path: string }): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(body));
}

/** Handle POST /upload (the caller has checked the token). */
export async function handleUpload(
  req: IncomingMessage,
  res: ServerResponse,
  options: UploadOptions,
): Promise<void> {
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST');
    reply(res, 405, { code: 'method_not_allowed', message: 'Upload a package with POST.' });
    req.resume();
    return;
  }
  // Taken now: a failed stream detaches the socket from the request before the answer is sent.
  const socket = req.socket as typeof req.socket | null;
  let path: string | undefined;
  try {
    const name = uploadFileName(
      typeof req.headers[FILENAME_HEADER] === 'string' ? req.headers[FILENAME_HEADER] : undefined,
    );
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.limitBytes) throw tooLarge(options.limitBytes);
    path = join(options.dir ?? defaultUploadDir(), name);
    await writeFileAtomic(path, capped(req, options.limitBytes), {
      ...(Number.isFinite(declared) ? { expectedSize: declared } : {}),
    });
    await options.retention?.added(path);
    reply(res, 200, { path });
  } catch (err) {
    // The upload's folder is fresh and random: a failed upload leaves nothing behind.
    if (path) await fs.rm(dirname(path), { recursive: true, force: true }).catch(() => undefined);
    // The station's own disk refusing the file is its fault, said in words (507), not a raw errno as a 500.
    const fault = storageFault(err);
    const data: ErrorData = fault
      ? {
          code: 'station_storage',
          message: `${describeStorageFault('the upload', fault)} Free space on the station's disk (or make it writable), then upload again.`,
        }
      : toErrorData(err);
    const status = data.code === 'too_large' ? 413 : data.code === 'bad_input' ? 400 : fault ? 507 : 500;
    // Stop reading a refused body: answer, then close the connection (a half-read body cannot be reused).
    if (!req.complete) {
      res.setHeader('Connection', 'close');
      res.once('finish', () => socket?.destroy());
    }
    reply(res, status, data);
  }
}
