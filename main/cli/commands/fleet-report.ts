/**
 * `flashline fleet report --since 1h --format csv|json [--product P] [--status 4x|42] [--station S]
 * [--serial S] [--out FILE]`: every matching job of every station, from the central store, streamed in
 * batches (oldest first) so a long export is never held whole.
 */
import { type Command, Option } from 'commander';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { FlashlineError } from '../../common/errors.js';
import { flashlineHome } from '../../common/paths.js';
import { csvField, exportRecords } from '../../flash/report-csv.js';
import { readFleetConfig } from '../../fleet/config.js';
import { type FleetJob, type JobFilter, jobFilterSchema } from '../../fleet/contract.js';
import { dbProblem } from '../../fleet/db.js';
import { openFleetQueries } from '../../fleet/queries.js';
import { parseSince } from './report.js';

export const FLEET_CSV_COLUMNS = [
  'jobId',
  'station',
  'site',
  'operator',
  'deviceId',
  'serial',
  'product',
  'hardwareRevision',
  'packageId',
  'packageVersion',
  'packageSha256',
  'rollbackIndex',
  'status',
  'statusName',
  'message',
  'startedAt',
  'endedAt',
  'receivedAt',
  'bytesWritten',
  'rate',
  'duplicateCheck',
] as const satisfies readonly (keyof FleetJob)[];

/** The export, chunk by chunk (same CSV quoting and JSON layout as `flashline report export`). */
export function fleetExport(jobs: AsyncIterable<FleetJob>, format: 'csv' | 'json'): AsyncGenerator<string> {
  return exportRecords(jobs, format, FLEET_CSV_COLUMNS, (j) =>
    FLEET_CSV_COLUMNS.map((c) => csvField(j[c])).join(','),
  );
}

interface ReportOptions {
  since?: Date;
  format: 'csv' | 'json';
  product?: string;
  status?: string;
  station?: string;
  site?: string;
  serial?: string;
  out?: string;
}

export function registerFleetReport(fleet: Command): void {
  fleet
    .command('report')
    .description('export jobs of every station from the fleet database (CSV or JSON)')
    .option('--since <when>', 'jobs that ended at or after this time (ISO date or 30m/24h/7d)', (v) =>
      parseSince(v),
    )
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .option('--product <product>', 'only this product')
    .option('--status <status>', 'ok, failed, a decade (4x) or a code (42)')
    .option('--station <name>', 'only this station')
    .option('--site <name>', 'only this site')
    .option('--serial <serial>', 'only this unit')
    .option('--out <file>', 'write to this file (atomically) instead of standard output')
    .action(async (o: ReportOptions) => {
      const home = flashlineHome();
      const config = await readFleetConfig(home);
      if (!config?.db) {
        throw new FlashlineError(
          'bad_config',
          "This station has no fleet database; run 'flashline fleet init --db postgres://…' first.",
        );
      }
      const raw = {
        ...(o.since ? { since: o.since.toISOString() } : {}),
        ...(o.product ? { product: o.product } : {}),
        ...(o.status ? { status: o.status } : {}),
        ...(o.station ? { station: o.station } : {}),
        ...(o.site ? { site: o.site } : {}),
        ...(o.serial ? { serial: o.serial } : {}),
      };
      const parsed = jobFilterSchema.safeParse(raw);
      if (!parsed.success) {
        const i = parsed.error.issues[0];
        throw new FlashlineError(
          'bad_input',
          `--${String(i?.path[0] ?? 'filter')}: ${i?.message ?? 'invalid'}`,
        );
      }
      const filter: JobFilter = parsed.data;
      const queries = await openFleetQueries(config);
      let count = 0;
      const jobs = async function* () {
        for await (const j of queries.allJobs(filter)) {
          count++;
          yield j;
        }
      };
      const chunks = async function* () {
        for await (const text of fleetExport(jobs(), o.format)) yield Buffer.from(text);
      };
      try {
        if (o.out) {
          await writeFileAtomic(o.out, chunks());
          process.stderr.write(`${count} job(s) written to ${o.out}\n`);
        } else {
          for await (const chunk of chunks()) {
            if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once('drain', r));
          }
        }
      } catch (err) {
        if (err instanceof FlashlineError) throw err;
        throw new FlashlineError('fleet_db', `Cannot export: ${dbProblem(config.db.url, err)}.`);
      } finally {
        await queries.close();
      }
    });
}
