/**
 * The rescue part of the service API (issue 14 item 5): start a rescue on a device in EDL with a signed
 * rescue package, optionally backing up partitions first; cancel it; follow it as an event stream like flash
 * jobs. Every input is validated here; package paths go through the station's package-folder policy.
 */
import { z } from 'zod';
import { FlashlineError } from '../common/errors.js';
import type { RescueServiceApi } from './rescue-jobs.js';
import type { ServiceContext } from './service.js';
import { procedure, router } from './trpc.js';

/** GPT partition labels as rawprogram files name them: letters, digits, `_`, `-`, `.`; at most 36 (GPT). */
const partitionName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,36}$/, 'a partition label is 1–36 letters, digits, _ . or -');

export const rescueStartInput = z
  .object({
    deviceId: z.string().min(1).max(200),
    packagePath: z.string().min(1).max(4096),
    backupPartitions: z.array(partitionName).max(32).optional(),
    /** Where the device comes back after its reset (a device id such as tcp:HOST:PORT). */
    comeBackDeviceId: z
      .string()
      .regex(/^(tcp|adb|usb|serial):\S{1,200}$/, 'a device id such as tcp:HOST:PORT')
      .optional(),
  })
  .strict();

function rescueOf(ctx: ServiceContext): RescueServiceApi {
  if (!ctx.rescue)
    throw new FlashlineError(
      'unavailable',
      'Rescue is not available in this session. Start Flashline as a station or the desktop app.',
    );
  return ctx.rescue;
}

export const rescueRouter = router({
  /** Start a rescue; resolves at once with the job (its progress and end come as events). */
  start: procedure.input(rescueStartInput).mutation(async ({ ctx, input }) => {
    await ctx.packagePaths?.check(input.packagePath);
    return rescueOf(ctx).start(input);
  }),
  /** Stop a running rescue (the device is left in EDL when the write had not begun). */
  cancel: procedure
    .input(z.object({ jobId: z.string().min(1).max(100) }).strict())
    .mutation(({ ctx, input }) => ({ cancelled: rescueOf(ctx).cancel(input.jobId) })),
  /** Rescue packages this session's jobs verified (path, id, version, sha256), newest first. */
  packages: procedure.query(({ ctx }) => rescueOf(ctx).packages()),
  /** Rescue jobs of this session with their last progress and, once ended, their report. */
  list: procedure.query(({ ctx }) => rescueOf(ctx).list()),
  /** started / progress (about 4 Hz per job; every stage change) / end with the RescueReport. */
  events: procedure.subscription(async function* ({ ctx, signal }) {
    yield* rescueOf(ctx).events(signal);
  }),
});
