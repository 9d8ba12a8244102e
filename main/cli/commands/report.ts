/**
 * `flashline report export --format csv|json [--since WHEN] [--out FILE]` and
 * `flashline report interrupted [--fail] [--json]` (jobs a stopped Flashline left unfinished).
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { flashlineHome } from '../../common/paths.js';
import { exportText, ReportStore } from '../../flash/report-store.js';
import { FlashService } from '../../flash/service.js';

/** ISO date/time, or a relative age like 30m, 24h, 7d. */
export function parseSince(value: string, now = Date.now()): Date {
  const rel = /^(\d{1,6})([mhd])$/.exec(value);
  if (rel) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 'm' | 'h' | 'd'];
    return new Date(now - Number(rel[1]) * unit);
  }
  const t = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)
    ? Date.parse(value)
    : Number.NaN;
  if (Number.isNaN(t)) {
    throw new InvalidArgumentError(
      `'${value}' is not a time; use an ISO date (2026-01-31, 2026-01-31T08:00Z) or an age (30m, 24h, 7d).`,
    );
  }
  return new Date(t);
}

export function registerReport(program: Command): void {
  const report = program
    .command('report')
    .description('job reports: export the local history, list interrupted jobs');
  report
    .command('export')
    .description('export job reports as CSV or JSON')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .option('--since <when>', 'only reports that ended at or after this time (ISO date or 30m/24h/7d)', (v) =>
      parseSince(v),
    )
    .option('--out <file>', 'write to this file (atomically) instead of standard output')
    .action(async (opts: { format: 'csv' | 'json'; since?: Date; out?: string }) => {
      const store = ReportStore.forHome(flashlineHome());
      // Streamed from the store in batches: the export of a long history is never held whole.
      let count = 0;
      const reports = async function* () {
        for await (const r of store.select(opts.since ? { since: opts.since } : {})) {
          count++;
          yield r;
        }
      };
      const chunks = async function* () {
        for await (const text of exportText(reports(), opts.format)) yield Buffer.from(text);
      };
      try {
        if (opts.out) {
          await writeFileAtomic(opts.out, chunks());
          process.stderr.write(`${count} report(s) written to ${opts.out}\n`);
        } else {
          for await (const chunk of chunks()) {
            if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once('drain', r));
          }
        }
      } finally {
        await store.close();
      }
    });
  report
    .command('interrupted')
    .description('list jobs that were running when Flashline stopped; --fail closes them with code 18')
    .option('--fail', 'mark them failed (code 18) instead of leaving them to be resumed', false)
    .option('--json', 'print JSON', false)
    .action(async (opts: { fail: boolean; json: boolean }) => {
      const service = new FlashService();
      const jobs = await service.manager.interrupted();
      const rows = jobs.map((j) => ({
        jobId: j.start.jobId,
        deviceId: j.start.deviceId,
        serial: j.plan?.serial,
        package: j.start.package,
        stoppedDuring: j.lastStage ?? 'preflight',
        piecesWritten: [...j.pieces.values()].reduce((a, s) => a + s.size, 0),
      }));
      if (opts.fail) for (const j of jobs) await service.manager.failInterrupted(j);
      if (opts.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
      else if (rows.length === 0) process.stdout.write('No interrupted jobs.\n');
      else {
        for (const r of rows) {
          process.stdout.write(
            `${r.jobId}  ${r.deviceId}  ${r.serial ?? '-'}  ${r.package.id} ${r.package.version}  stopped during ${r.stoppedDuring}, ${r.piecesWritten} piece(s) written\n`,
          );
        }
        process.stdout.write(
          opts.fail
            ? `${rows.length} job(s) marked failed (18).\n`
            : "Resume with 'flashline flash PACKAGE --device ID' (same package and device), or close them with --fail.\n",
        );
      }
    });
}
