/**
 * `flashline backup --device ID --partition NAME --out FILE`: read a partition of a device in EDL back
 * through Firehose `read`, streamed to disk (readToFile: never a partial file under FILE), with progress. Exit code: 0, or the EDL status (edl-common.ts).
 */
import type { Command } from 'commander';
import { ProgressMeter } from '../../flash/progress.js';
import { readPartitionTable, readToFile } from '../../protocol/firehose/index.js';
import { transferProgressPrinter } from '../transfer-progress.js';
import { type EdlCliCommon, openEdl, reportEdlFailure, withEdlOptions } from './edl-common.js';

interface BackupOptions extends EdlCliCommon {
  partition: string;
  out: string;
}

export function registerBackup(program: Command): void {
  withEdlOptions(
    program
      .command('backup')
      .description('read a partition of a device in Qualcomm EDL back to a local image (Firehose read)'),
  )
    .requiredOption('--partition <name>', 'GPT label of the partition to read (e.g. boot, modemst1)')
    .requiredOption('--out <file>', 'where to write the image (replaced atomically)')
    .action(async (opts: BackupOptions) => {
      process.exitCode = await backup(opts);
    });
}

async function backup(opts: BackupOptions): Promise<number> {
  let session: Awaited<ReturnType<typeof openEdl>> | undefined;
  try {
    session = await openEdl(opts);
    const { firehose, config } = session;
    const table = await readPartitionTable(firehose, config.sectorSize);
    const part = table.find((p) => p.label === opts.partition);
    if (!part) {
      process.stderr.write(
        `error: no partition '${opts.partition}' on the device; it has ${table.map((p) => p.label).join(', ')}\n`,
      );
      return 30;
    }
    const numSectors = part.lastLba - part.firstLba + 1;
    const total = numSectors * config.sectorSize;
    const printer = transferProgressPrinter();
    const meter = new ProgressMeter(opts.partition, opts.device, (e) =>
      printer.show({
        what: opts.partition,
        bytesDone: e.bytesDone,
        bytesTotal: e.bytesTotal,
        rate: e.rate,
        etaSeconds: e.eta,
      }),
    );
    meter.begin('download', total);
    await readToFile(
      firehose,
      { sectorSize: config.sectorSize, physicalPartition: 0, startSector: part.firstLba, numSectors },
      opts.out,
      { onProgress: (done) => meter.set(done) },
    );
    printer.end();
    process.stdout.write(
      `${opts.partition}: ${total} bytes (${numSectors} sectors of ${config.sectorSize}) → ${opts.out}\n`,
    );
    return 0;
  } catch (err) {
    return reportEdlFailure(err);
  } finally {
    await session?.firehose.link.close();
  }
}
