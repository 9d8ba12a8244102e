/**
 * Partitions of a Firehose device by label, read from its primary GPT (header at LBA 1, entries after it) —
 * only the header sector and the entry array are read.
 */
import type { CallOptions, FirehoseClient } from './client.js';
import { FirehoseProtocolError } from './errors.js';
import { type GptPartition, parseGptEntries, parseGptHeader } from './gpt.js';

async function readSectors(
  client: FirehoseClient,
  sectorSize: number,
  physicalPartition: number,
  startSector: number,
  numSectors: number,
  opts: CallOptions,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  await client.read(
    { sectorSize, physicalPartition, startSector, numSectors },
    (c) => {
      parts.push(Buffer.from(c));
    },
    opts,
  );
  return Buffer.concat(parts);
}

/** @throws FirehoseProtocolError when the disk has no valid GPT */
export async function readPartitionTable(
  client: FirehoseClient,
  sectorSize: number,
  physicalPartition = 0,
  opts: CallOptions = {},
): Promise<GptPartition[]> {
  try {
    const hdr = parseGptHeader(await readSectors(client, sectorSize, physicalPartition, 1, 1, opts));
    const sectors = Math.ceil((hdr.count * hdr.entrySize) / sectorSize);
    const entries = await readSectors(client, sectorSize, physicalPartition, hdr.entriesLba, sectors, opts);
    return parseGptEntries(entries, hdr);
  } catch (err) {
    if (err instanceof Error && err.name === 'GptFormatError')
      throw new FirehoseProtocolError(`the partition table is unreadable (${err.message})`, { cause: err });
    throw err;
  }
}
