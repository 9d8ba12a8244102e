/**
 * The one service API: commands, queries and event streams, served identically over Electron IPC
 * (desktop) and a token-protected WebSocket on loopback (station). Every input is validated with zod.
 * The renderer imports only the `AppRouter` type from here.
 */
import { z } from 'zod';
import { FlashlineError } from '../common/errors.js';
import { STATUS_CODES } from '../common/status-codes.js';
import { rebootDevice } from '../devices/device-actions.js';
import type { FlashServiceApi } from '../flash/service-api.js';
import { fleetRouter } from './fleet-router.js';
import { packageView } from './package-view.js';
import { repoRouter } from './repo-router.js';
import { exportReports, historyQuery, historyView, reportExportRequest } from './report-export.js';
import { rescueRouter } from './rescue-router.js';
import type { ServiceContext } from './service.js';
import { procedure, router } from './trpc.js';

const deviceId = z.string().min(1).max(200);
const jobId = z.string().min(1).max(100);
const packagePath = z.string().min(1).max(4096);

/** A package path a client named, once the station's package-folder policy (if any) allows it. */
async function allowedPackage(ctx: ServiceContext, path: string): Promise<string> {
  await ctx.packagePaths?.check(path);
  return path;
}

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
  repo: repoRouter,
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
    /** Identify a device again now (what it reports after a flash elsewhere); a busy device is left alone. */
    refresh: procedure.input(z.object({ id: deviceId }).strict()).mutation(async ({ ctx, input }) => {
      const device = await ctx.devices.refresh(input.id);
      if (!device) {
        throw new FlashlineError(
          'not_found',
          `No device with id ${input.id} is connected. Run 'flashline devices' to list them.`,
        );
      }
      return device;
    }),
    /**
     * rebootDevice: reboot a device that runs Android into the bootloader (fastboot) over its ADB endpoint,
     * or (`edl`) take a modem on its AT port into download mode through the vendor table.
     * Refused for a busy device or one not in Android (nothing is sent then). Resolves once the device took
     * the command; its list entry follows as discovery sees it come back in fastboot.
     */
    reboot: procedure
      .input(z.object({ id: deviceId, target: z.enum(['bootloader', 'edl']) }).strict())
      .mutation(({ ctx, input }) => rebootDevice(ctx.devices, input.id, input.target)),
    /** added/changed/ready/removed events, live. */
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
      return packageView(input.path, await flashOf(ctx).openPackage(await allowedPackage(ctx, input.path)));
    }),
    list: procedure.query(({ ctx }) => flashOf(ctx).packages()),
  }),
  jobs: router({
    /** One job per device (resuming an interrupted job for the same device and package). */
    start: procedure
      .input(z.object({ packagePath, deviceIds: z.array(deviceId).min(1).max(64) }).strict())
      .mutation(async ({ ctx, input }) => ({
        jobIds: await flashOf(ctx).flash(await allowedPackage(ctx, input.packagePath), input.deviceIds),
      })),
    list: procedure.query(({ ctx }) => flashOf(ctx).listJobs()),
    /** Auto-flash on connect with this package (null turns it off); known serials skipped unless forced. */
    autoFlash: procedure
      .input(z.object({ packagePath: packagePath.nullable(), force: z.boolean().optional() }).strict())
      .mutation(async ({ ctx, input }) =>
        flashOf(ctx).setAutoFlash(
          ctx.devices,
          input.packagePath === null ? null : await allowedPackage(ctx, input.packagePath),
          input.force ?? false,
        ),
      ),
    /** Whether auto-flash is on and with which package, so every open page shows the same switch. */
    autoFlashState: procedure.query(({ ctx }) => flashOf(ctx).getAutoFlash()),
    cancel: procedure
      .input(z.object({ jobId }).strict())
      .mutation(({ ctx, input }) => ({ cancelled: flashOf(ctx).cancelJob(input.jobId) })),
    /** Progress (about 4 Hz per job, never backwards within a stage), stage changes, messages, ends. */
    events: procedure.subscription(async function* ({ ctx, signal }) {
      yield* flashOf(ctx).jobEvents(signal);
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
      .query(({ ctx, input }) =>
        flashOf(ctx).listReports({
          ...(input.since ? { since: new Date(input.since) } : {}),
          limit: input.limit ?? 1_000,
        }),
      ),
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
    interrupted: procedure.query(({ ctx }) => flashOf(ctx).interruptedJobs()),
    /** Resume an interrupted job (needs its package file) or close it with code 18. */
    resolveInterrupted: procedure
      .input(z.object({ jobId, action: z.enum(['resume', 'fail']) }).strict())
      .mutation(async ({ ctx, input }) => {
        const flash = flashOf(ctx);
        if (input.action === 'fail') return { status: await flash.discardInterrupted(input.jobId) };
        await flash.resumeInterrupted(input.jobId);
        return { status: null };
      }),
  }),
  fleet: fleetRouter,
  rescue: rescueRouter,
});

export type AppRouter = typeof appRouter;
