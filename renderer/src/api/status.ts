/** The status-code table as the screens use it (docs/status-codes.md is the source). */
import type { StatusCodeInfo } from '../../../main/api/types.js';

/** The remedy for a code: exact row, else its decade's, else a generic line. */
export function remedyFor(codes: ReadonlyMap<number, StatusCodeInfo>, code: number | string): string {
  if (typeof code !== 'number') return 'Check the message above and retry.';
  return (
    codes.get(code)?.remedy ??
    codes.get(Math.floor(code / 10) * 10)?.remedy ??
    'Report this to Flashline support.'
  );
}
