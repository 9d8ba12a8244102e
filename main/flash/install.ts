/**
 * install: the package's shared (non-slotted) partitions and erase steps. They come only after every
 * slotted image is written and verified, because a shared partition is live for both slots.
 */
import { JOB_CODES, jobFailure } from './codes.js';
import { type JobContext, op, session } from './context.js';
import { sharedImages } from './dynamic-images.js';
import { DeviceLinkError } from './ports.js';
import { verifyImages } from './verify.js';
import { writeImages } from './write-images.js';

export async function install(ctx: JobContext): Promise<void> {
  const shared = sharedImages(ctx.pkg);
  if (shared.length > 0) {
    await writeImages(ctx, shared);
    await verifyImages(ctx, shared);
  }
  for (const partition of ctx.pkg.erase ?? []) {
    const s = session(ctx);
    try {
      await op(ctx, `erase ${partition}`, ctx.options.timeouts.commandMs, (o) => s.erase(partition, o));
    } catch (err) {
      if (err instanceof DeviceLinkError && err.kind === 'device-fail') {
        throw jobFailure(
          JOB_CODES.installStepFailed,
          `The device refused to erase ${partition}: ${err.deviceMessage ?? err.message}`,
        );
      }
      throw err;
    }
  }
}
