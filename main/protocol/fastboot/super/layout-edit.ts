/**
 * Helpers shared by the layout operations: look a partition up, sum a group, swap a partition in, raise the
 * header version an attribute needs, and re-validate a result. Every operation returns new metadata (inputs
 * are never changed).
 */
import { SuperFormatError, SuperLayoutError } from './errors.js';
import { extentsBytes } from './extent-allocation.js';
import { PARTITION_ATTRIBUTE_MASK_V1 } from './format.js';
import type { SuperMetadata, SuperPartition } from './types.js';
import { validateSuperMetadata } from './validate.js';

export function findPartition(md: SuperMetadata, name: string): SuperPartition {
  const p = md.partitions.find((x) => x.name === name);
  if (!p) {
    throw new SuperLayoutError(
      `there is no logical partition '${name}' in super (it has: ${md.partitions.map((x) => x.name).join(', ') || 'none'})`,
      { partition: name },
    );
  }
  return p;
}

export function groupUsed(md: SuperMetadata, group: string, except?: string): number {
  return md.partitions
    .filter((p) => p.group === group && p.name !== except)
    .reduce((n, p) => n + extentsBytes(p.extents), 0);
}

/** Re-validate an operation's result; a failure here means the request itself was impossible. */
export function checked(md: SuperMetadata): SuperMetadata {
  try {
    validateSuperMetadata(md);
  } catch (err) {
    if (err instanceof SuperFormatError)
      throw new SuperLayoutError(`the resulting super layout is not valid: ${err.message}`);
    throw err;
  }
  return md;
}

export function replacePartition(md: SuperMetadata, p: SuperPartition): SuperMetadata {
  return { ...md, partitions: md.partitions.map((x) => (x.name === p.name ? p : x)) };
}

export function withMinorFor(md: SuperMetadata, attributes: number): SuperMetadata {
  if ((attributes & PARTITION_ATTRIBUTE_MASK_V1) === 0 || md.header.minor >= 1) return md;
  return { ...md, header: { ...md.header, minor: 1 } };
}
