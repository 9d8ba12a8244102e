/**
 * The job journal: one append-only JSON-lines file per job. Every transition and every completed piece is
 * appended and fsynced before the next step takes effect, so a crash of Flashline leaves a record from which
 * the job can be resumed or cleanly failed. Appends go straight to the file with fsync, because an append
 * log must not be rewritten on every record; a torn line (crash or full disk mid-append) is ignored when
 * reading, and a file whose first record is torn is no job at all. Once the job's report is durably stored
 * the journal is removed, so the directory holds only jobs that are running or were interrupted.
 */
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { fsyncDir } from '../common/atomic-write.js';
import { type DiskIo, nodeDisk } from '../common/station-storage.js';
import { STAGES } from './stages.js';

export const LOGICAL_STEPS = ['begin', 'super', 'done'] as const;
export type LogicalStep = (typeof LOGICAL_STEPS)[number];

const packageRef = z.object({
  id: z.string(),
  version: z.string(),
  sha256: z.string(),
  path: z.string().optional(),
});

export const journalRecord = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('start'),
    at: z.string(),
    jobId: z.string(),
    deviceId: z.string(),
    /** Every endpoint of the unit (first = deviceId); absent when it has only one. */
    endpoints: z.array(z.string()).optional(),
    package: packageRef,
  }),
  z.object({
    type: z.literal('plan'),
    at: z.string(),
    serial: z.string(),
    product: z.string(),
    targetSlot: z.string(),
    oldSlot: z.string(),
    pieceSize: z.number().int().positive(),
  }),
  z.object({ type: z.literal('stage'), at: z.string(), stage: z.enum(STAGES) }),
  z.object({
    type: z.literal('piece'),
    at: z.string(),
    partition: z.string(),
    index: z.number().int().nonnegative(),
  }),
  /** The identity of one image's piece plan (wire size of each piece), journaled before any is written. */
  z.object({
    type: z.literal('pieces'),
    at: z.string(),
    partition: z.string(),
    sizes: z.array(z.number().int().positive()),
  }),
  /** The device's hash disagreed: the image's pieces are written again. */
  z.object({ type: z.literal('reset'), at: z.string(), partition: z.string() }),
  z.object({ type: z.literal('resumed'), at: z.string() }),
  /** The device arrived in this fastboot mode (bootloader or userspace fastboot). */
  z.object({ type: z.literal('mode'), at: z.string(), mode: z.enum(['fastboot', 'fastbootd']) }),
  /**
   * Progress of the logical-partition phase: `begin` = physical images written and verified, target slot
   * set active for fastbootd; `super` = update-super applied; `done` = logical images written and verified.
   */
  z.object({ type: z.literal('logical'), at: z.string(), step: z.enum(LOGICAL_STEPS) }),
  z.object({ type: z.literal('end'), at: z.string(), status: z.number().int(), message: z.string() }),
]);
export type JournalRecord = z.infer<typeof journalRecord>;
type NewRecord = JournalRecord extends infer R ? (R extends { at: string } ? Omit<R, 'at'> : never) : never;

export class Journal {
  readonly path: string;
  readonly #disk: DiskIo;
  #queue: Promise<void> = Promise.resolve();
  constructor(path: string, disk: DiskIo = nodeDisk) {
    this.path = path;
    this.#disk = disk;
  }

  static at(dir: string, jobId: string, disk: DiskIo = nodeDisk): Journal {
    return new Journal(join(dir, `${jobId}.jsonl`), disk);
  }

  /** Create the file with its first record (file and directory fsynced); never overwrites a journal. */
  async begin(first: NewRecord): Promise<void> {
    await fs.mkdir(dirname(this.path), { recursive: true });
    const handle = await this.#disk.open(this.path, 'wx');
    try {
      await handle.write(line(first));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsyncDir(dirname(this.path));
  }

  /** The job's report is stored: the journal has served its purpose. */
  async remove(): Promise<void> {
    await this.#queue;
    await fs.rm(this.path, { force: true });
  }

  /** Append one record and fsync it; records are written in call order. */
  append(record: NewRecord): Promise<void> {
    const next = this.#queue.then(async () => {
      const handle = await this.#disk.open(this.path, 'a');
      try {
        await handle.write(line(record));
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }
}

function line(record: NewRecord): string {
  return `${JSON.stringify({ ...record, at: new Date().toISOString() })}\n`;
}

export interface JournalState {
  readonly path: string;
  readonly start: Extract<JournalRecord, { type: 'start' }>;
  readonly plan?: Extract<JournalRecord, { type: 'plan' }>;
  readonly lastStage?: (typeof STAGES)[number];
  /** `partition -> indexes of pieces written` */
  readonly pieces: ReadonlyMap<string, ReadonlySet<number>>;
  /** `partition -> piece sizes` of the plan the written pieces belong to (latest record wins). */
  readonly piecePlans: ReadonlyMap<string, readonly number[]>;
  /** The steps of the logical-partition phase already done. */
  readonly logical: ReadonlySet<LogicalStep>;
  /** The fastboot mode the device last arrived in, if the job moved it. */
  readonly mode?: 'fastboot' | 'fastbootd';
  readonly end?: Extract<JournalRecord, { type: 'end' }>;
}

export async function readJournal(path: string): Promise<JournalState | undefined> {
  const text = await fs.readFile(path, 'utf8');
  const records: JournalRecord[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      continue; // torn last line
    }
    const r = journalRecord.safeParse(parsed);
    if (r.success) records.push(r.data);
  }
  const first = records[0];
  if (first?.type !== 'start') return undefined;
  let plan: JournalState['plan'];
  let lastStage: JournalState['lastStage'];
  let end: JournalState['end'];
  const pieces = new Map<string, Set<number>>();
  const piecePlans = new Map<string, readonly number[]>();
  const logical = new Set<LogicalStep>();
  let mode: JournalState['mode'];
  for (const r of records) {
    if (r.type === 'logical') logical.add(r.step);
    else if (r.type === 'mode') mode = r.mode;
    else if (r.type === 'plan') plan = r;
    else if (r.type === 'pieces') piecePlans.set(r.partition, r.sizes);
    else if (r.type === 'stage') lastStage = r.stage;
    else if (r.type === 'end') end = r;
    else if (r.type === 'reset') pieces.delete(r.partition);
    else if (r.type === 'piece') {
      const set = pieces.get(r.partition) ?? new Set<number>();
      set.add(r.index);
      pieces.set(r.partition, set);
    }
  }
  return { path, start: first, plan, lastStage, pieces, piecePlans, logical, ...(mode ? { mode } : {}), end };
}

/**
 * Jobs whose journal has no end record: Flashline stopped while they ran. A journal whose job `isSettled`
 * (its report is stored: a crash came between storing the report and removing the journal) is removed on
 * the way, so the directory never accumulates finished jobs.
 */
export async function listInterrupted(
  dir: string,
  isSettled: (jobId: string) => Promise<boolean> = async () => false,
): Promise<JournalState[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: JournalState[] = [];
  for (const name of names.filter((n) => n.endsWith('.jsonl')).sort()) {
    const path = join(dir, name);
    const state = await readJournal(path).catch(() => undefined);
    if (!state) continue;
    if (await isSettled(state.start.jobId)) await fs.rm(path, { force: true }).catch(() => undefined);
    else if (!state.end) out.push(state);
  }
  return out;
}
