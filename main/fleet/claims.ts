/**
 * The UnitClaims port over PostgreSQL. One statement claims atomically: insert the (serial, package) row,
 * or take it over when it is this station's own running claim (a resumed or retried job); any other holder
 * means refusal. The database being unreachable is not a refusal: the job goes on and is flagged for the
 * duplicate check at sync (outbox.ts).
 */
import type { UnitClaimRequest, UnitClaimResult, UnitClaims } from '../flash/unit-claims.js';
import { dbProblem, type Sql } from './db.js';
import type { OutboxStateFile } from './outbox-state.js';

interface ClaimRow {
  readonly station: string;
  readonly state: string;
  readonly job_id: string;
  readonly claimed_at: Date;
}

export class PgUnitClaims implements UnitClaims {
  readonly #sql: Sql;
  readonly #station: string;
  readonly #dbUrl: string;
  readonly #state: OutboxStateFile;

  constructor(sql: Sql, station: string, dbUrl: string, state: OutboxStateFile) {
    this.#sql = sql;
    this.#station = station;
    this.#dbUrl = dbUrl;
    this.#state = state;
  }

  async heldElsewhere(serial: string, packageSha256: string): Promise<string | undefined> {
    try {
      const held = await this.#holder(serial, packageSha256);
      return held && held.station !== this.#station ? refusal(serial, held) : undefined;
    } catch {
      return undefined; // unreachable: the job's own claim falls back and flags it
    }
  }

  /** Who holds the claim on this unit for this package, if anyone. */
  async #holder(serial: string, packageSha256: string): Promise<ClaimRow | undefined> {
    const [held] = await this.#sql<ClaimRow[]>`
      SELECT station, state, job_id, claimed_at FROM fleet_claims
      WHERE serial = ${serial} AND package_sha256 = ${packageSha256}`;
    return held;
  }

  async claim(r: UnitClaimRequest): Promise<UnitClaimResult> {
    const sql = this.#sql;
    try {
      const won = await sql`
        INSERT INTO fleet_claims (serial, package_sha256, station, job_id, state)
        VALUES (${r.serial}, ${r.packageSha256}, ${this.#station}, ${r.jobId}, 'running')
        ON CONFLICT (serial, package_sha256) DO UPDATE SET job_id = excluded.job_id, claimed_at = now()
          WHERE fleet_claims.station = excluded.station AND fleet_claims.state = 'running'
        RETURNING job_id`;
      if (won.length > 0) return { outcome: 'claimed' };
      const held = await this.#holder(r.serial, r.packageSha256);
      // Gone between the two statements (its job failed and was released): claim again.
      if (!held) return await this.claim(r);
      // This station passed it before: its own record decides, exactly as on a single station.
      if (held.station === this.#station) return { outcome: 'claimed' };
      return { outcome: 'refused', reason: refusal(r.serial, held) };
    } catch (err) {
      const reason = dbProblem(this.#dbUrl, err);
      await this.#state.update((s) => {
        if (!s.pendingChecks.includes(r.jobId)) s.pendingChecks.push(r.jobId);
      });
      return { outcome: 'unchecked', reason };
    }
  }
}

function refusal(serial: string, held: ClaimRow): string {
  const when = held.claimed_at.toISOString();
  return held.state === 'passed'
    ? `serial ${serial} was already flashed with this package on station ${held.station} (job ${held.job_id}, ${when})`
    : `serial ${serial} is being flashed with this package on station ${held.station} (job ${held.job_id}, since ${when})`;
}
