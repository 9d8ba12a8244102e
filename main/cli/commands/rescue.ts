/**
 * `flashline rescue --device ID --programmer FILE --folder DIR`: revive a device in Qualcomm EDL from an
 * unpacked vendor rescue folder (rawprogram*.xml, patch*.xml, images) over a stream link, then reset it.
 * Minimal form: the signed rescue *package* kind (verified before anything reaches the device) and the
 * hand-over to fastboot/postcheck are later work (docs/edl.md).
 */
import type { Command } from 'commander';
import { planFolder, programFolder } from '../../protocol/firehose/index.js';
import { type EdlCliCommon, openEdl, reportEdlFailure, withEdlOptions } from './edl-common.js';

interface RescueOptions extends EdlCliCommon {
  folder: string;
  allowSecdata: boolean;
  reset: boolean;
}

export function registerRescue(program: Command): void {
  withEdlOptions(
    program
      .command('rescue')
      .description('program a device in Qualcomm EDL from an unpacked rescue folder (rawprogram/patch XML)'),
  )
    .requiredOption(
      '--folder <dir>',
      'the rescue folder: rawprogram*.xml, patch*.xml and the images they name',
    )
    .option('--allow-secdata', 'also program secdata (security settings); refused by default', false)
    .option('--no-reset', 'leave the device in the programmer instead of resetting it')
    .action(async (opts: RescueOptions) => {
      process.exitCode = await rescue(opts);
    });
}

async function rescue(opts: RescueOptions): Promise<number> {
  let session: Awaited<ReturnType<typeof openEdl>> | undefined;
  try {
    // Read and check the folder before touching the device.
    const plan = await planFolder(opts.folder, { allowSecdata: opts.allowSecdata });
    session = await openEdl(opts);
    const started = Date.now();
    await programFolder(session.firehose, opts.folder, plan, {
      onStep: (what) => process.stderr.write(`${what}\n`),
      onProgress: (label, done, total) => {
        if (done < total) return;
        const s = Math.max((Date.now() - started) / 1000, 0.001);
        process.stderr.write(
          `  ${label}: ${total} bytes (${(done / 1e6 / s).toFixed(1)} MB/s since start)\n`,
        );
      },
    });
    if (opts.reset) await session.firehose.reset();
    process.stdout.write(`rescued from ${opts.folder}${opts.reset ? '; the device is resetting' : ''}\n`);
    return 0;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'bad_input') {
      process.stderr.write(`error: ${(err as Error).message}\n`);
      return 21;
    }
    return reportEdlFailure(err);
  } finally {
    await session?.firehose.link.close();
  }
}
