/**
 * A pool of worker threads that check batches of image blocks against their signed SHA-256 hashes, so
 * verification runs on every core instead of one sequential hash. Batches live in SharedArrayBuffer slots
 * the caller owns (verified-batches.ts): a task names a slot, the worker (reads the batch from the package
 * file into it and) hashes it in place, and answers with the index of the first bad block (or -1). Reading
 * in the worker keeps the bytes in that core's cache for the hash (about a quarter less CPU per GiB than
 * reading on the main thread's I/O pool). Nothing is copied or allocated per batch — fresh or transferred
 * buffers per MiB made V8 run a full GC every ~20 MiB, which cost more than the hashing saved — and a slot
 * outlives a worker, so a task whose worker dies is run again on a fresh one (once).
 *
 * The worker's code is a self-contained CommonJS string run with `eval: true` rather than a file: the same
 * product code runs under tsx (development), as compiled or bundled JavaScript (CLI, Electron's esbuild
 * bundle), and a bundler cannot follow `new Worker(new URL('./file', import.meta.url))` into its output.
 * The string uses only node:crypto and node:fs, so there is nothing of ours to keep in step with it.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { PKG, pkgError } from './codes.js';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { readSync } = require('node:fs');
let scratch = null;
const arenas = new Map();
class ReadFailure { constructor(message) { this.message = message; } }
function readInto(fd, view, position) {
  let got = 0;
  try {
    for (let n = 1; got < view.length && n > 0; got += n) n = readSync(fd, view, got, view.length - got, position + got);
  } catch (err) { throw new ReadFailure(String(err && err.message)); }
  return got;
}
function firstBad(view, blockSize, expected, from) {
  for (let i = 0; i * blockSize < view.length; i++) {
    const start = i * blockSize;
    const hash = createHash('sha256').update(view.subarray(start, Math.min(start + blockSize, view.length))).digest();
    const at = (from + i) * 32;
    if (Buffer.compare(hash, expected.subarray(at, at + 32)) !== 0) return i;
  }
  return -1;
}
parentPort.on('message', (t) => {
  if (t.control === 'arena') { arenas.set(t.arena, t.memory); return; }
  if (t.control === 'forget') { arenas.delete(t.arena); return; }
  try {
    if (t.arena !== undefined) {
      const data = new Uint8Array(arenas.get(t.arena), t.offset, t.length);
      const got = t.read ? readInto(t.read.fd, data, t.read.position) : t.length;
      parentPort.postMessage({ id: t.id, bad: got < t.length ? -1 : firstBad(data, t.blockSize, t.expected, 0), got });
      return;
    }
    if (!scratch || scratch.length < t.piece) scratch = new Uint8Array(t.piece);
    let got = 0;
    let bad = -1;
    while (got < t.length && bad < 0) {
      const view = scratch.subarray(0, Math.min(t.piece, t.length - got));
      const n = readInto(t.read.fd, view, t.read.position + got);
      if (n === view.length) {
        const b = firstBad(view, t.blockSize, t.expected, got / t.blockSize);
        if (b >= 0) bad = got / t.blockSize + b;
      }
      got += n;
      if (n < view.length) break;
    }
    parentPort.postMessage({ id: t.id, bad, got });
  } catch (err) {
    if (!(err instanceof ReadFailure)) throw err;
    parentPort.postMessage({ id: t.id, bad: -1, got: 0, error: err.message });
  }
});
`;

/** One batch in a shared slot: `length` bytes at `offset` of a leased arena, whole blocks (the last may be shorter). */
export interface SlotTask {
  readonly arena: number;
  readonly offset: number;
  readonly length: number;
  readonly blockSize: number;
  /** 32 bytes per block, in its own small buffer (posting a view would clone all of its memory). */
  readonly expected: Uint8Array;
  /**
   * Have the worker read the batch into the slot first, from an open file (fds are per process): the
   * bytes are then still in that core's cache when it hashes them. The fd must stay open until settled.
   */
  readonly read?: { readonly fd: number; readonly position: number };
}

/**
 * A range of a file verified to nowhere: the worker reads it `piece` bytes (whole blocks) at a time into
 * a buffer of its own and hashes each piece, with no round trip to the main thread per piece.
 */
export interface RangeTask {
  readonly length: number;
  readonly blockSize: number;
  readonly piece: number;
  readonly expected: Uint8Array;
  readonly read: { readonly fd: number; readonly position: number };
}

export type BatchTask = SlotTask | RangeTask;

export interface CheckResult {
  /** Index within the batch or range of the first block that does not match, or -1 when all match. */
  readonly bad: number;
  /** Bytes there: less than the task's length when a read found the file ending early. */
  readonly got: number;
}

type Task = BatchTask & {
  readonly id: number;
  /** Workers this task was lost with; it is run again once. */
  lost: number;
  readonly resolve: (r: CheckResult) => void;
  readonly reject: (e: unknown) => void;
};

/** A task is retried on a fresh worker this many times when its worker dies under it. */
const RETRIES = 1;

interface Thread {
  readonly worker: Worker;
  readonly inFlight: Map<number, Task>;
}

/** Tasks queued on one worker at a time: two hide the hop back to the main thread between batches. */
const PER_THREAD = 2;
/** Arenas kept for reuse once released; beyond this the oldest are dropped (and forgotten by the workers). */
const SPARE_BYTES = 64 * 1024 * 1024;

/**
 * Shared memory for one stream's slots. Every worker is handed it once, when it is made (or when the worker
 * starts), and tasks name it by id: a SharedArrayBuffer posted with every task would stay alive in each
 * worker until that worker's next GC, which with so little garbage there can be a GiB later.
 */
export interface Arena {
  readonly id: number;
  readonly memory: SharedArrayBuffer;
}

export class HashPool {
  readonly size: number;
  private readonly threads: Thread[] = [];
  private readonly queue: Task[] = [];
  private nextId = 0;
  private readonly arenas = new Map<number, SharedArrayBuffer>();
  private readonly spare: Arena[] = [];
  private nextArena = 0;

  constructor(size = availableParallelism()) {
    this.size = Math.max(1, size);
  }

  /**
   * (Read and) hash each block of the batch and compare it with `expected`. The caller must not touch the
   * slot until the promise settles; a failed read rejects with 20.
   */
  check(batch: BatchTask): Promise<CheckResult> {
    return new Promise<CheckResult>((resolve, reject) => {
      this.queue.push({ ...batch, id: this.nextId++, lost: 0, resolve, reject });
      this.dispatch();
    });
  }

  /** Shared memory of exactly `bytes` for one stream's slots; give it back with release() when done. */
  lease(bytes: number): Arena {
    const i = this.spare.findIndex((a) => a.memory.byteLength === bytes);
    if (i >= 0) return this.spare.splice(i, 1)[0]!;
    const arena = { id: this.nextArena++, memory: new SharedArrayBuffer(bytes) };
    this.arenas.set(arena.id, arena.memory);
    for (const t of this.threads)
      t.worker.postMessage({ control: 'arena', arena: arena.id, memory: arena.memory });
    return arena;
  }

  /** Return an arena no task uses any more; it is reused by the next stream that needs its size. */
  release(arena: Arena): void {
    this.spare.push(arena);
    let total = this.spare.reduce((n, a) => n + a.memory.byteLength, 0);
    while (total > SPARE_BYTES) {
      const old = this.spare.shift()!;
      total -= old.memory.byteLength;
      this.arenas.delete(old.id);
      for (const t of this.threads) t.worker.postMessage({ control: 'forget', arena: old.id });
    }
  }

  /** Live worker threads (for diagnostics and tests that crash one on purpose). */
  workers(): readonly Worker[] {
    return this.threads.map((t) => t.worker);
  }

  /** Tasks posted or queued and not yet settled. */
  pending(): number {
    return this.queue.length + this.threads.reduce((n, t) => n + t.inFlight.size, 0);
  }

  /** Stop every thread; tasks not yet settled are refused. */
  async close(): Promise<void> {
    const threads = this.threads.splice(0);
    const closed = pkgError(PKG.verifyFailed, 'Verification stopped: the hashing pool was closed.');
    for (const task of [...this.queue.splice(0), ...threads.flatMap((t) => [...t.inFlight.values()])])
      task.reject(closed);
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const thread = this.idlest();
      if (!thread) return;
      const task = this.queue.shift()!;
      thread.inFlight.set(task.id, task);
      thread.worker.ref();
      const { resolve: _r, reject: _j, lost: _l, ...message } = task;
      thread.worker.postMessage(message);
    }
  }

  /** The least busy thread with room, starting a new one while the pool is below its size. */
  private idlest(): Thread | undefined {
    const free = this.threads.find((t) => t.inFlight.size === 0);
    if (free) return free;
    if (this.threads.length < this.size) return this.spawn();
    const least = this.threads.reduce((a, b) => (b.inFlight.size < a.inFlight.size ? b : a));
    return least.inFlight.size < PER_THREAD ? least : undefined;
  }

  private spawn(): Thread {
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
    worker.unref(); // an idle pool never keeps the process alive
    const thread: Thread = { worker, inFlight: new Map() };
    for (const [arena, memory] of this.arenas) worker.postMessage({ control: 'arena', arena, memory });
    worker.on('message', (m: { id: number; bad: number; got: number; error?: string }) => {
      const task = thread.inFlight.get(m.id);
      if (!task) return;
      thread.inFlight.delete(m.id);
      if (thread.inFlight.size === 0) worker.unref();
      if (m.error === undefined) task.resolve({ bad: m.bad, got: m.got });
      else task.reject(pkgError(PKG.verifyFailed, `Reading the package file failed (${m.error}).`));
      this.dispatch();
    });
    const lost = (why: string) => {
      const i = this.threads.indexOf(thread);
      if (i < 0) return; // already handled (error is followed by exit)
      this.threads.splice(i, 1);
      const failure = pkgError(
        PKG.verifyFailed,
        `Verification stopped: a hashing worker thread ${why}, twice for the same data. Nothing unverified was released; try again, and restart Flashline if it repeats.`,
        { reason: why },
      );
      for (const task of thread.inFlight.values()) {
        if (task.lost++ < RETRIES) this.queue.unshift(task);
        else task.reject(failure);
      }
      thread.inFlight.clear();
      this.dispatch(); // queued tasks go to the others or to a replacement
    };
    worker.on('error', (err) => lost(`failed (${err.message})`));
    worker.on('exit', (code) => lost(`exited (code ${code})`));
    this.threads.push(thread);
    return thread;
  }
}

let shared: HashPool | undefined;

/** The process-wide pool, one thread per core, started on first use. */
export function sharedHashPool(): HashPool {
  shared ??= new HashPool();
  return shared;
}
