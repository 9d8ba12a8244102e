/**
 * What a long-running command (station, demo) does with its running jobs when it is asked to stop: each
 * stops safely (journal written, device on its working slot) and stays resumable for the next run.
 */
import type { FlashServiceApi } from '../flash/service-api.js';

export async function stopJobs(flash: FlashServiceApi | undefined): Promise<void> {
  if (!flash) return;
  flash.manager.stopAll();
  await flash.manager.waitAll().catch(() => undefined);
}
