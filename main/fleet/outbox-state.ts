/**
 * The outbox's persisted state, `<home>/fleet-outbox.json` (atomic writes): the cursor (highest report
 * sequence number the database has durably taken), the last sync and last error, the jobs whose unit
 * claim could not be made (checked for duplicates when they sync) and the duplicates that check found.
 * Updates within one process are serialised; the cursor only moves forward.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../common/atomic-write.js';

const stateSchema = z.object({
  syncedThrough: z.number().int().min(0),
  lastSyncAt: z.string().optional(),
  lastError: z.string().optional(),
  lastErrorAt: z.string().optional(),
  pendingChecks: z.array(z.string()),
  duplicates: z.array(z.object({ jobId: z.string(), serial: z.string(), heldBy: z.string() })),
});
export type OutboxState = z.infer<typeof stateSchema>;

const EMPTY: OutboxState = { syncedThrough: 0, pendingChecks: [], duplicates: [] };

export function outboxStatePath(home: string): string {
  return join(home, 'fleet-outbox.json');
}

export async function readOutboxState(home: string): Promise<OutboxState> {
  try {
    const parsed = stateSchema.safeParse(JSON.parse(await fs.readFile(outboxStatePath(home), 'utf8')));
    // A damaged state file costs a re-send from the start, which the job-id idempotency makes harmless.
    return parsed.success ? parsed.data : structuredClone(EMPTY);
  } catch {
    return structuredClone(EMPTY);
  }
}

export class OutboxStateFile {
  readonly #home: string;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(home: string) {
    this.#home = home;
  }

  read(): Promise<OutboxState> {
    return readOutboxState(this.#home);
  }

  /** Read-modify-write, one at a time; the cursor never moves back. */
  update(change: (s: OutboxState) => void): Promise<OutboxState> {
    const next = this.#chain.then(async () => {
      const state = await readOutboxState(this.#home);
      const before = state.syncedThrough;
      change(state);
      state.syncedThrough = Math.max(before, state.syncedThrough);
      await writeJsonAtomic(outboxStatePath(this.#home), state, { mode: 0o600 });
      return state;
    });
    this.#chain = next.catch(() => undefined);
    return next;
  }
}
