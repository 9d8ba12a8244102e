/**
 * A ranged, resumable download of one repository target into a partial file, checked against the signed
 * TUF target info (exact length, SHA-256). Written here rather than taken from tuf-js, whose fetcher reads
 * whole files in one request: a package of several GB must survive a dropped connection and resume with
 * `Range: bytes=N-` where it stopped. Memory stays flat: the body streams to disk chunk by chunk.
 * A mirror that sends more than the signed length, or a complete response shorter than it, is refused (28)
 * and the partial file removed; a connection that drops is retried from the bytes already on disk.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlashlineError } from '../common/errors.js';
import { openRange } from './ranged-get.js';
import { REPO_CODE } from './refusals.js';

export interface TargetDownload {
  readonly url: string;
  /** The partial file; kept between attempts (and runs) so a later sync resumes. */
  readonly partPath: string;
  readonly length: number;
  readonly sha256: string;
  readonly attempts?: number;
  readonly signal?: AbortSignal;
  readonly onBytes?: (bytesDone: number) => void;
}

function refuse(d: TargetDownload, what: string): FlashlineError {
  return new FlashlineError(
    REPO_CODE.mismatch,
    `${d.url}: ${what}; the repository signed ${d.length} bytes. The file was discarded; tell the repository operator or use another mirror.`,
    { url: d.url, length: d.length },
  );
}

/** A refusal of the content (not the network): the partial file is worthless. */
function isRefusal(err: unknown): boolean {
  return err instanceof FlashlineError && err.code === REPO_CODE.mismatch;
}

async function sizeOf(path: string): Promise<number> {
  return (await fs.stat(path).catch(() => undefined))?.size ?? 0;
}

/** One request: append what the server sends after `have` bytes. Resolves once the response has ended. */
async function fetchOnce(d: TargetDownload, have: number): Promise<void> {
  const reader = await openRange(d.url, have, d.length, d.signal);
  const file = await fs.open(d.partPath, have === 0 ? 'w' : 'a');
  let done = have;
  try {
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        const chunk = r.value;
        if (done + chunk.byteLength > d.length) throw refuse(d, 'the server sends more data than signed');
        await file.write(chunk);
        done += chunk.byteLength;
        d.onBytes?.(done);
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
    await file.sync();
  } finally {
    await file.close();
  }
  if (done < d.length) throw refuse(d, `the server ended the file after ${done} bytes`);
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Download (or finish downloading) a target; resolves when partPath holds exactly the signed bytes. */
export async function downloadTarget(d: TargetDownload): Promise<void> {
  await fs.mkdir(dirname(d.partPath), { recursive: true });
  const attempts = d.attempts ?? 6;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    let have = await sizeOf(d.partPath);
    if (have > d.length) {
      await fs.rm(d.partPath, { force: true });
      have = 0;
    }
    if (have === d.length) break;
    try {
      await fetchOnce(d, have);
      break;
    } catch (err) {
      if (isRefusal(err)) {
        await fs.rm(d.partPath, { force: true });
        throw err;
      }
      if (d.signal?.aborted || (err instanceof FlashlineError && err.code === REPO_CODE.unreachable))
        throw err;
      lastError = err;
      // A dropped connection: wait a little (growing), then resume from what reached the disk.
      await sleep(Math.min(200 * 2 ** attempt, 5000), undefined, d.signal ? { signal: d.signal } : {});
    }
  }
  if ((await sizeOf(d.partPath)) !== d.length) {
    const why = lastError instanceof Error ? lastError.message : String(lastError);
    throw new FlashlineError(
      REPO_CODE.unreachable,
      `${d.url}: the connection kept dropping (${why}). What arrived is kept; run the sync again to resume.`,
      { url: d.url },
    );
  }
  if ((await sha256Of(d.partPath)) !== d.sha256) {
    await fs.rm(d.partPath, { force: true });
    throw refuse(d, 'the file does not have the signed SHA-256 (altered on the mirror)');
  }
}
