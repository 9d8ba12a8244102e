/** super_empty.img: geometry + one metadata copy. */
import type { SuperMetadata } from './types.js';

export function isSuperEmptyImage(head: Uint8Array): boolean {
  void head;
  throw new Error('not yet');
}
export function parseSuperEmpty(bytes: Uint8Array): SuperMetadata {
  void bytes;
  throw new Error('not yet');
}
export function encodeSuperEmpty(metadata: SuperMetadata): Uint8Array {
  void metadata;
  throw new Error('not yet');
}
