/**
 * Errors of the super metadata codec. Malformed bytes (from a file or a device) → {@link SuperFormatError};
 * a layout request that cannot be satisfied (no space, group limit, unknown partition) → {@link SuperLayoutError}.
 * Messages say what is wrong and, where it helps, what to do.
 */
import { FlashlineError } from '../../../common/errors.js';

export const SUPER_ERROR_CODES = {
  format: 'bad_super_metadata',
  layout: 'super_layout',
} as const;

export interface SuperFormatDetail {
  /** Which structure was refused: geometry, header, tables, partition, extent, group, block device, image. */
  readonly where: string;
  /** Byte offset in the input (or in super) where the refused structure starts, when known. */
  readonly offset?: number;
}

export class SuperFormatError extends FlashlineError {
  readonly where: string;
  constructor(where: string, problem: string, offset?: number, options?: { cause?: unknown }) {
    super(
      SUPER_ERROR_CODES.format,
      `super partition metadata (${where}) is not valid: ${problem}`,
      offset === undefined ? { where } : { where, offset },
      options,
    );
    this.name = 'SuperFormatError';
    this.where = where;
  }
}

export class SuperLayoutError extends FlashlineError {
  constructor(message: string, detail?: unknown) {
    super(SUPER_ERROR_CODES.layout, message, detail);
    this.name = 'SuperLayoutError';
  }
}
