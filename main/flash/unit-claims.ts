/**
 * "Never twice the same unit" across stations: before a job writes anything, it claims its unit (serial)
 * for its package through this port. The fleet (main/fleet/claims.ts) implements it over PostgreSQL; the
 * composition roots wire it in. Without a fleet there is no port and the job runs exactly as before.
 */
import { JOB_CODES, jobFailure } from './codes.js';
import type { ReportBuilder } from './report.js';

export interface UnitClaimRequest {
  readonly jobId: string;
  readonly deviceId: string;
  readonly serial: string;
  readonly packageSha256: string;
}

export type UnitClaimResult =
  /** This station owns the unit for this package now (or already did). */
  | { readonly outcome: 'claimed' }
  /** Another station flashed or is flashing this unit with this package; `reason` says which and when. */
  | { readonly outcome: 'refused'; readonly reason: string }
  /** The claim could not be made (database unreachable): the job goes on, checked for duplicates at sync. */
  | { readonly outcome: 'unchecked'; readonly reason: string };

export interface UnitClaims {
  claim(request: UnitClaimRequest): Promise<UnitClaimResult>;
  /**
   * Why another station holds this unit for this package (auto-flash skips it with this reason), or
   * undefined when none does or it cannot be known now (the job's own claim then decides). Never throws.
   */
  heldElsewhere(serial: string, packageSha256: string): Promise<string | undefined>;
}

/**
 * Claim the unit before the first byte is written: a refusal fails the job with 38 (nothing written); an
 * unchecked claim is noted in the report and the job continues on this station's own record.
 */
export async function claimUnit(
  claims: UnitClaims | undefined,
  request: UnitClaimRequest,
  report: Pick<ReportBuilder, 'unchecked'>,
): Promise<void> {
  if (!claims) return;
  const result = await claims.claim(request);
  if (result.outcome === 'refused') throw jobFailure(JOB_CODES.unitClaimedElsewhere, result.reason);
  if (result.outcome === 'unchecked') {
    report.unchecked([
      `fleet unit claim: ${result.reason}; checked against this station's record only, duplicate check when it syncs`,
    ]);
  }
}
