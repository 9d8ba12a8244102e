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

class Refused extends FlashlineError {}

function refuse(d: TargetDownload, what: string): Refused {
  return new Refused(
    REPO_CODE.mismatch,
    `${d.url}: ${what}; the repository signed ${d.length} bytes. The file was discarded; tell the repository operator or use another mirror.`,
    { url: d.url, length: d.length },
  );
}

async function sizeOf(path: string): Promise<number> {
  return (await fs.stat(path).catch(() => undefined))?.size ?? 0;
}

/** One request: append what the server sends after `have` bytes. Resolves once the response has ended. */
async function fetchOnce(d: TargetDownload, have: number): Promise<void> {
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (have > 0) headers.range = `bytes=${have}-`;
  const res = await fetch(d.url, { headers, ...(d.signal ? { signal: d.signal } : {}) });
  let start = 0;
  if (res.status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
    if (!m) throw refuse(d, 'the server answered a range request without a valid Content-Range');
    if (m[3] !== '*' && Number(m[3]) !== d.length) throw refuse(d, `the server's file has ${m[3]} bytes`);
    start = Number(m[1]);
    if (start !== have) throw refuse(d, `the server resumed at byte ${start}, not ${have}`);
  } else if (res.status === 416) {
    throw refuse(d, `the server's file is shorter than the ${have} bytes already received`);
  } else if (res.status === 200) {
    const declared = res.headers.get('content-length');
    if (declared !== null && Number(declared) !== d.length)
      throw refuse(d, `the server sends ${declared} bytes`);
  } else {
    await res.body?.cancel();
    // A server error may pass (an overloaded mirror); a client error will not.
    if (res.status >= 500) throw new Error(`HTTP ${res.status}`);
    throw new FlashlineError(
      REPO_CODE.unreachable,
      `${d.url}: the server answered HTTP ${res.status}. Check the repository address; retry later.`,
      { url: d.url, status: res.status },
    );
  }
  const file = await fs.open(d.partPath, start === 0 ? 'w' : 'a');
  let done = start;
  try {
    if (!res.body) throw refuse(d, 'the server sent no body');
    const reader = res.body.getReader();
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
      if (err instanceof Refused) {
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
