/**
 * The one service API: commands, queries and event streams, served identically over Electron IPC
 * (desktop) and a token-protected WebSocket on loopback (station). Every input is validated with zod.
 * The renderer imports only the `AppRouter` type from here.
 */
import { z } from 'zod';
import { FlashlineError } from '../common/errors.js';
import { STATUS_CODES } from '../common/status-codes.js';
import type { JobReport } from '../flash/report.js';
import type { FlashServiceApi } from '../flash/service-api.js';
import { packageView } from './package-view.js';
import { exportReports, historyQuery, historyView, reportExportRequest } from './report-export.js';
import type { ServiceContext } from './service.js';
import { procedure, router } from './trpc.js';

const deviceId = z.string().min(1).max(200);
const jobId = z.string().min(1).max(100);
const packagePath = z.string().min(1).max(4096);

function flashOf(ctx: ServiceContext): FlashServiceApi {
  if (!ctx.flash) {
    throw new FlashlineError(
      'unavailable',
      'Flashing is not available in this session. Start Flashline with a station or the desktop app.',
    );
  }
  return ctx.flash;
}

export const appRouter = router({
  app: router({
    info: procedure.query(({ ctx }) => ({
      product: 'Flashline',
      version: ctx.version,
      mode: ctx.mode,
      demo: ctx.demo,
    })),
    /** The status-code table (code, name, message, remedy), so clients show remedies for any code. */
    statusCodes: procedure.query(() => STATUS_CODES),
  }),
  devices: router({
    list: procedure.query(({ ctx }) => ctx.devices.list()),
    get: procedure.input(z.object({ id: deviceId }).strict()).query(({ ctx, input }) => {
      const device = ctx.devices.get(input.id);
      if (!device) {
        throw new FlashlineError(
          'not_found',
          `No device with id ${input.id} is connected. Run 'flashline devices' to list them.`,
        );
      }
      return device;
    }),
    /** added/changed/removed events, live. */
    events: procedure.subscription(async function* ({ ctx, signal }) {
      yield* ctx.devices.events(signal);
    }),
  }),
  packages: router({
    /**
     * Verify a package file (signature, trust, structure), keep it ready for jobs, and return what the
     * technician must see before flashing (signers, products, version, rollback index, expiry, images).
     */
    open: procedure.input(z.object({ path: packagePath }).strict()).mutation(async ({ ctx, input }) => {
      return packageView(input.path, await flashOf(ctx).openPackage(input.path));
    }),
    list: procedure.query(({ ctx }) => flashOf(ctx).packages()),
  }),
  jobs: router({
    /** One job per device (resuming an interrupted job for the same device and package). */
    start: procedure
      .input(z.object({ packagePath, deviceIds: z.array(deviceId).min(1).max(64) }).strict())
      .mutation(async ({ ctx, input }) => ({
        jobIds: await flashOf(ctx).flash(input.packagePath, input.deviceIds),
      })),
    list: procedure.query(({ ctx }) => flashOf(ctx).manager.list()),
    /** Auto-flash on connect with this package (null turns it off); known serials skipped unless forced. */
    autoFlash: procedure
      .input(z.object({ packagePath: packagePath.nullable(), force: z.boolean().optional() }).strict())
      .mutation(({ ctx, input }) =>
        flashOf(ctx).setAutoFlash(ctx.devices, input.packagePath, input.force ?? false),
      ),
    /** Whether auto-flash is on and with which package, so every open page shows the same switch. */
    autoFlashState: procedure.query(({ ctx }) => flashOf(ctx).getAutoFlash()),
    cancel: procedure
      .input(z.object({ jobId }).strict())
      .mutation(({ ctx, input }) => ({ cancelled: flashOf(ctx).manager.cancel(input.jobId) })),
    /** Progress (about 4 Hz per job, never backwards within a stage), stage changes, messages, ends. */
    events: procedure.subscription(async function* ({ ctx, signal }) {
      yield* flashOf(ctx).manager.events(signal);
    }),
    // --- history and reports (store helper, issue 11): served from the report store's index ---
    /** Reports that ended since a time, oldest first, at most `limit` (default 1,000); use history to page. */
    reports: procedure
      .input(
        z
          .object({
            since: z.iso.datetime().optional(),
            limit: z.number().int().min(1).max(10_000).optional(),
          })
          .strict(),
      )
      .query(async ({ ctx, input }) => {
        const out: JobReport[] = [];
        const filter = input.since ? { since: new Date(input.since) } : {};
        for await (const r of flashOf(ctx).reports.select(filter)) {
          if (out.length >= (input.limit ?? 1_000)) break;
          out.push(r);
        }
        return out;
      }),
    /**
     * The History screen, one page at a time: reports matching its filter, newest first, how many match and
     * how many there are; pass `nextCursor` back as `cursor` for the next page.
     */
    history: procedure.input(historyQuery).query(({ ctx, input }) => historyView(flashOf(ctx), input)),
    /** The history as a JSON or CSV file's text (filtered like the History screen), made by the service. */
    exportReports: procedure
      .input(reportExportRequest)
      .query(({ ctx, input }) => exportReports(flashOf(ctx), input)),
    // --- end of history and reports ---
    interrupted: procedure.query(async ({ ctx }) =>
      (await flashOf(ctx).manager.interrupted()).map((j) => ({
        jobId: j.start.jobId,
        deviceId: j.start.deviceId,
        package: j.start.package,
        serial: j.plan?.serial,
        stoppedDuring: j.lastStage ?? 'preflight',
      })),
    ),
    /** Resume an interrupted job (needs its package file) or close it with code 18. */
    resolveInterrupted: procedure
      .input(z.object({ jobId, action: z.enum(['resume', 'fail']) }).strict())
      .mutation(async ({ ctx, input }) => {
        const flash = flashOf(ctx);
        const job = (await flash.manager.interrupted()).find((j) => j.start.jobId === input.jobId);
        if (!job) throw new FlashlineError('not_found', `No interrupted job ${input.jobId}.`);
        if (input.action === 'fail') return { status: (await flash.manager.failInterrupted(job)).status };
        const path = job.start.package.path;
        if (!path)
          throw new FlashlineError(
            'not_found',
            'The journal does not name the package file; start the job again.',
          );
        const pkg = await flash.openPackage(path);
        flash.manager.start({ deviceId: job.start.deviceId, pkg, packagePath: path, resume: job });
        return { status: null };
      }),
  }),
});

export type AppRouter = typeof appRouter;
