/** Pure layout operations on super metadata (liblp MetadataBuilder semantics). */
import type { LogicalExtentRange, SuperMetadata } from './types.js';

export interface NewSuperOptions {
  readonly size: number;
  readonly superName?: string;
  readonly metadataMaxSize?: number;
  readonly metadataSlotCount?: number;
  readonly logicalBlockSize?: number;
  readonly alignment?: number;
  readonly alignmentOffset?: number;
  readonly headerFlags?: number;
  readonly groups?: readonly {
    readonly name: string;
    readonly maximumSize: number;
    readonly flags?: number;
  }[];
  readonly partitions?: readonly {
    readonly name: string;
    readonly group?: string;
    readonly size: number;
    readonly attributes?: number;
  }[];
}
export interface CreatePartitionRequest {
  readonly name: string;
  readonly group?: string;
  readonly size: number;
  readonly attributes?: number;
}
export interface MergeLayoutOptions {
  readonly keep?: (name: string) => boolean;
}
export function newSuperMetadata(options: NewSuperOptions): SuperMetadata {
  void options;
  throw new Error('not yet');
}
export function createPartition(metadata: SuperMetadata, request: CreatePartitionRequest): SuperMetadata {
  void metadata;
  void request;
  throw new Error('not yet');
}
export function deletePartition(metadata: SuperMetadata, name: string): SuperMetadata {
  void metadata;
  void name;
  throw new Error('not yet');
}
export function resizePartition(metadata: SuperMetadata, name: string, size: number): SuperMetadata {
  void metadata;
  void name;
  void size;
  throw new Error('not yet');
}
export function addGroup(
  metadata: SuperMetadata,
  group: { readonly name: string; readonly maximumSize: number; readonly flags?: number },
): SuperMetadata {
  void metadata;
  void group;
  throw new Error('not yet');
}
export function partitionSize(metadata: SuperMetadata, name: string): number {
  void metadata;
  void name;
  throw new Error('not yet');
}
export function freeBytes(metadata: SuperMetadata): number {
  void metadata;
  throw new Error('not yet');
}
export function mergeLayout(
  current: SuperMetadata,
  next: SuperMetadata,
  options?: MergeLayoutOptions,
): SuperMetadata {
  void current;
  void next;
  void options;
  throw new Error('not yet');
}
export function wipeLayout(next: SuperMetadata, superSize: number, superName?: string): SuperMetadata {
  void next;
  void superSize;
  void superName;
  throw new Error('not yet');
}
export function logicalPartitionExtents(metadata: SuperMetadata, name: string): LogicalExtentRange[] {
  void metadata;
  void name;
  throw new Error('not yet');
}
