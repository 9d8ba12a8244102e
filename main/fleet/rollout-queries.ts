/**
 * The rollout view's history: per package (id + version), the devices that update over the air counted by
 * their newest attempt at it, beside the stations' jobs that flashed it. Both halves are grouped in SQL over
 * the indexes of migration 2, so the answer's cost follows the number of devices and packages, not of reports.
 */
import { FlashlineError } from '../common/errors.js';
import type { CodeCount, RolloutPackage, RolloutQueries } from './contract.js';
import type { Sql } from './db.js';

export const MAX_ROLLOUT_PACKAGES = 200;

interface Tally {
  packageId: string;
  packageVersion: string;
  installed: number;
  inProgress: number;
  deviceFailures: CodeCount[];
  stations: number;
  passed: number;
  jobFailures: CodeCount[];
  last: number;
}

type CodeRow = { package_id: string; package_version: string; status: number; name: string; count: number };

export class PgRolloutQueries implements RolloutQueries {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async rollout(limit: number): Promise<RolloutPackage[]> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ROLLOUT_PACKAGES) {
      throw new FlashlineError('bad_input', `Ask for 1 to ${MAX_ROLLOUT_PACKAGES} packages (got ${limit}).`);
    }
    const sql = this.#sql;
    // The newest attempt of each device at each package (the index serves DISTINCT ON in its order).
    const latest = () => sql`
      SELECT DISTINCT ON (package_id, package_version, site, serial)
        package_id, package_version, phase, status, status_name, reported_at
      FROM fleet_ota_attempts
      ORDER BY package_id, package_version, site, serial, started_at DESC, seq DESC`;
    const [devices, deviceCodes, jobs, jobCodes] = await Promise.all([
      sql<{ package_id: string; package_version: string; installed: number; busy: number; last: Date }[]>`
        WITH latest AS (${latest()})
        SELECT package_id, package_version,
          count(*) FILTER (WHERE phase = 'done' AND status = 0)::int AS installed,
          count(*) FILTER (WHERE phase NOT IN ('done', 'failed'))::int AS busy,
          max(reported_at) AS last
        FROM latest GROUP BY package_id, package_version`,
      sql<CodeRow[]>`
        WITH latest AS (${latest()})
        SELECT package_id, package_version, status, min(status_name) AS name, count(*)::int AS count
        FROM latest WHERE phase = 'failed'
        GROUP BY package_id, package_version, status`,
      sql<{ package_id: string; package_version: string; stations: number; passed: number; last: Date }[]>`
        SELECT package_id, package_version, count(DISTINCT station)::int AS stations,
          count(*) FILTER (WHERE status = 0)::int AS passed, max(ended_at) AS last
        FROM fleet_jobs GROUP BY package_id, package_version`,
      sql<CodeRow[]>`
        SELECT package_id, package_version, status, min(status_name) AS name, count(*)::int AS count
        FROM fleet_jobs WHERE status <> 0
        GROUP BY package_id, package_version, status`,
    ]);
    const tallies = new Map<string, Tally>();
    const tally = (id: string, version: string): Tally => {
      // JSON as the key: ids and versions may contain any separator.
      const key = JSON.stringify([id, version]);
      let t = tallies.get(key);
      if (!t) {
        t = {
          packageId: id,
          packageVersion: version,
          installed: 0,
          inProgress: 0,
          deviceFailures: [],
          stations: 0,
          passed: 0,
          jobFailures: [],
          last: 0,
        };
        tallies.set(key, t);
      }
      return t;
    };
    for (const d of devices) {
      const t = tally(d.package_id, d.package_version);
      t.installed = d.installed;
      t.inProgress = d.busy;
      t.last = Math.max(t.last, d.last.getTime());
    }
    for (const j of jobs) {
      const t = tally(j.package_id, j.package_version);
      t.stations = j.stations;
      t.passed = j.passed;
      t.last = Math.max(t.last, j.last.getTime());
    }
    const codeCount = (c: CodeRow): CodeCount => ({
      status: c.status,
      statusName: c.name ?? '',
      count: c.count,
    });
    for (const c of deviceCodes) tally(c.package_id, c.package_version).deviceFailures.push(codeCount(c));
    for (const c of jobCodes) tally(c.package_id, c.package_version).jobFailures.push(codeCount(c));
    const byCount = (a: CodeCount, b: CodeCount) => b.count - a.count || a.status - b.status;
    return [...tallies.values()]
      .sort(
        (a, b) =>
          b.last - a.last ||
          a.packageId.localeCompare(b.packageId) ||
          a.packageVersion.localeCompare(b.packageVersion),
      )
      .slice(0, limit)
      .map((t) => ({
        packageId: t.packageId,
        packageVersion: t.packageVersion,
        devices: {
          installed: t.installed,
          inProgress: t.inProgress,
          failed: t.deviceFailures.sort(byCount),
        },
        stations: { stations: t.stations, passed: t.passed, failed: t.jobFailures.sort(byCount) },
        lastActivityAt: new Date(t.last).toISOString(),
      }));
  }
}
