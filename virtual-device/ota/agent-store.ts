/**
 * The OTA agent's own files on the device's storage (`<state>/ota/`), each replaced atomically
 * (writeJsonAtomic: a power cut leaves the old or the new version):
 *   attempt.json   the attempt in progress: its identity, target, slot, phase and download checkpoint
 *   outbox.json    reports not yet acknowledged by the broker (sent after a reconnect or a power cut)
 *   declined.json  packages that failed their postcheck here (not tried again; a newer one is)
 *   head.bin, blocks/  the package head and block lists of the attempt (metadata, never image bytes)
 *   repo/          the repository's trusted TUF metadata (the root is remembered here)
 * Every write first asks `alive()`: once the device has lost power, the agent writes nothing more.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../../main/common/atomic-write.js';
import { type OtaReport, otaReportSchema } from '../../main/protocol/ota/report.js';

/** Thrown instead of writing once the device lost power (the attempt stops where it is). */
export class PowerLost extends Error {
  constructor() {
    super('the device lost power');
    this.name = 'PowerLost';
  }
}

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);

/** Where a resumed download starts: a byte offset at a block or entry boundary, with the hashes so far. */
const checkpointSchema = z.strictObject({
  offset: z.number().int().nonnegative(),
  /** Saved SHA-256 state over the package bytes [0, offset) (the TUF target hash). */
  fileHash: base64,
  /** Within an image's data: its index, the next block and the saved whole-image SHA-256 state. */
  image: z
    .strictObject({
      index: z.number().int().nonnegative(),
      block: z.number().int().nonnegative(),
      hash: base64,
    })
    .optional(),
});
export type Checkpoint = z.infer<typeof checkpointSchema>;

export const PERSISTED_PHASES = ['downloading', 'installing', 'switching', 'rebooting'] as const;
export type PersistedPhase = (typeof PERSISTED_PHASES)[number];

const attemptSchema = z.strictObject({
  v: z.literal(1),
  attemptId: z.uuid(),
  seq: z.number().int().nonnegative(),
  startedAt: z.iso.datetime(),
  fromVersion: z.string().min(1).max(80),
  target: z.strictObject({
    name: z.string().min(1).max(200),
    url: z.url(),
    length: z.number().int().positive(),
    sha256: sha256Hex,
  }),
  package: z.strictObject({
    version: z.string().min(1).max(80),
    rollbackIndex: z.number().int().nonnegative(),
    manifestSha256: sha256Hex,
  }),
  slot: z.enum(['a', 'b']),
  phase: z.enum(PERSISTED_PHASES),
  bytesDone: z.number().int().nonnegative(),
  checkpoint: checkpointSchema.nullable(),
});
export type Attempt = z.infer<typeof attemptSchema>;

const outboxSchema = z.strictObject({ v: z.literal(1), reports: z.array(otaReportSchema) });
const declinedSchema = z.strictObject({ v: z.literal(1), sha256: z.array(sha256Hex) });

/** Reports kept at most (oldest dropped first): the device's storage is not the fleet's. */
export const OUTBOX_LIMIT = 1000;

export class AgentStore {
  readonly dir: string;

  constructor(
    stateDir: string,
    private readonly alive: () => boolean,
  ) {
    this.dir = join(stateDir, 'ota');
  }

  get repoHome(): string {
    return join(this.dir, 'repo');
  }
  get headPath(): string {
    return join(this.dir, 'head.bin');
  }
  blocksPath(partition: string): string {
    return join(this.dir, 'blocks', `${partition}.blocks`);
  }

  /** Throws PowerLost once the device is off: call before every write to the device's storage. */
  guard(): void {
    if (!this.alive()) throw new PowerLost();
  }

  async #read<T>(file: string, schema: z.ZodType<T>): Promise<T | null> {
    let text: string;
    try {
      text = await fs.readFile(join(this.dir, file), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    // A file that does not fit (damaged, older format) is dropped: the agent starts that part afresh.
    const r = schema.safeParse(json);
    return r.success ? r.data : null;
  }

  async #write(file: string, value: unknown): Promise<void> {
    this.guard();
    await fs.mkdir(this.dir, { recursive: true });
    await writeJsonAtomic(join(this.dir, file), value);
  }

  loadAttempt(): Promise<Attempt | null> {
    return this.#read('attempt.json', attemptSchema);
  }
  saveAttempt(a: Attempt): Promise<void> {
    return this.#write('attempt.json', attemptSchema.parse(a));
  }
  async clearAttempt(): Promise<void> {
    this.guard();
    await fs.rm(join(this.dir, 'attempt.json'), { force: true });
    await fs.rm(join(this.dir, 'blocks'), { recursive: true, force: true });
    await fs.rm(this.headPath, { force: true });
  }

  async loadOutbox(): Promise<OtaReport[]> {
    return (await this.#read('outbox.json', outboxSchema))?.reports ?? [];
  }
  saveOutbox(reports: readonly OtaReport[]): Promise<void> {
    return this.#write('outbox.json', { v: 1, reports: reports.slice(-OUTBOX_LIMIT) });
  }

  async declined(): Promise<string[]> {
    return (await this.#read('declined.json', declinedSchema))?.sha256 ?? [];
  }
  async decline(sha256: string): Promise<void> {
    const list = await this.declined();
    if (!list.includes(sha256)) await this.#write('declined.json', { v: 1, sha256: [...list, sha256] });
  }
}
