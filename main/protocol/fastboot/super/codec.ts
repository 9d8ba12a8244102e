/** Geometry and metadata (header + tables) codec. */
import type { SuperGeometry, SuperMetadata } from './types.js';

export function parseGeometry(bytes: Uint8Array): SuperGeometry {
  void bytes;
  throw new Error('not yet');
}
export function encodeGeometry(geometry: SuperGeometry): Uint8Array {
  void geometry;
  throw new Error('not yet');
}
export function parseMetadata(geometry: SuperGeometry, bytes: Uint8Array): SuperMetadata {
  void geometry;
  void bytes;
  throw new Error('not yet');
}
export function encodeMetadata(metadata: SuperMetadata): Uint8Array {
  void metadata;
  throw new Error('not yet');
}
