/** Reading and writing the metadata region of a whole super partition. */
import type { SuperGeometry, SuperMetadata, SuperReader, SuperWriter } from './types.js';

export interface ReadSuperOptions {
  /** Metadata slot to read (0 = slot a; default 0). */
  readonly slot?: number;
}
export interface SuperReadResult {
  readonly metadata: SuperMetadata;
  /** Which copies were damaged and skipped (empty when the primary copies were good). */
  readonly recovered: readonly ('primary-geometry' | 'primary-metadata')[];
}
export async function readSuperGeometry(reader: SuperReader): Promise<SuperGeometry> {
  void reader;
  throw new Error('not yet');
}
export async function readSuperMetadata(
  reader: SuperReader,
  options?: ReadSuperOptions,
): Promise<SuperMetadata> {
  void reader;
  void options;
  throw new Error('not yet');
}
export async function readSuperMetadataWithReport(
  reader: SuperReader,
  options?: ReadSuperOptions,
): Promise<SuperReadResult> {
  void reader;
  void options;
  throw new Error('not yet');
}
export async function writeSuperMetadata(
  writer: SuperWriter,
  metadata: SuperMetadata,
  options?: { readonly slot?: number },
): Promise<void> {
  void writer;
  void metadata;
  void options;
  throw new Error('not yet');
}
export async function flashSuperMetadata(writer: SuperWriter, metadata: SuperMetadata): Promise<void> {
  void writer;
  void metadata;
  throw new Error('not yet');
}
