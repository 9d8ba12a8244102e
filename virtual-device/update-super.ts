/**
 * fastbootd's `update-super:NAME[:wipe]`: the download buffer holds a super_empty.img (geometry + one metadata
 * copy, as `lpmake --sparse`-less builds and Flashline's codec write it). As AOSP fastbootd does:
 * - with `wipe`, or when super holds no readable metadata: the new layout replaces the table (every slot);
 * - otherwise the new layout is merged: the current slot's partitions (and unsuffixed ones) come from the new
 *   layout, the other slot's partitions are kept with their extents — so a running slot survives an update
 *   of the other one.
 * The image's super size must be this device's (liblp refuses a block device size mismatch too).
 */
import { promises as fs } from 'node:fs';
import {
  mergeLayout,
  parseSuperEmpty,
  type SuperMetadata,
  wipeLayout,
} from '../main/protocol/fastboot/super/index.js';
import { CommandFailure } from './device-errors.js';
import type { DownloadedImage } from './download-buffer.js';
import type { Slot } from './state-store.js';
import type { SuperPartition } from './super-partition.js';

/** A super_empty.img is a few KiB (geometry + one metadata copy of at most metadata_max_size). */
const MAX_SUPER_EMPTY_BYTES = 4 * 1024 * 1024;

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function updateSuper(
  sp: SuperPartition,
  image: DownloadedImage,
  wipe: boolean,
  currentSlot: Slot,
): Promise<void> {
  if (image.size > MAX_SUPER_EMPTY_BYTES) {
    throw new CommandFailure(
      `the download (${image.size} bytes) is not a super_empty.img (at most ${MAX_SUPER_EMPTY_BYTES} bytes)`,
    );
  }
  let next: SuperMetadata;
  try {
    // A plain Uint8Array copy: the codec may slice() it expecting a copy (Buffer.slice is a view).
    next = parseSuperEmpty(new Uint8Array(await fs.readFile(image.path)));
  } catch (err) {
    throw new CommandFailure(`the download is not a valid super_empty.img: ${reason(err)}`);
  }
  const device = next.blockDevices[0];
  if (!device || device.size !== sp.size) {
    throw new CommandFailure(
      `super_empty.img describes a super of ${device?.size ?? 0} bytes; this device's super is ${sp.size} bytes`,
    );
  }
  const current = sp.metadata;
  try {
    if (wipe || !current) next = wipeLayout(next, sp.size, 'super');
    else {
      if (!sameGeometry(current, next)) {
        throw new CommandFailure(
          'super_empty.img has a different metadata geometry than this device; use update-super super wipe',
        );
      }
      // Keep the other slot's partitions; the current slot's (and unsuffixed ones) come from the new layout.
      next = mergeLayout(current, next, { currentSlotSuffix: `_${currentSlot}` });
    }
  } catch (err) {
    if (err instanceof CommandFailure) throw err;
    throw new CommandFailure(`cannot update super: ${reason(err)}`);
  }
  await sp.commit(next);
}

function sameGeometry(a: SuperMetadata, b: SuperMetadata): boolean {
  return (
    a.geometry.metadataMaxSize === b.geometry.metadataMaxSize &&
    a.geometry.metadataSlotCount === b.geometry.metadataSlotCount &&
    a.geometry.logicalBlockSize === b.geometry.logicalBlockSize
  );
}
