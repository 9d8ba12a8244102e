/**
 * The physical `super` partition of a phone with dynamic partitions: a sparse file in the state directory
 * holding liblp metadata (written and read by Flashline's super codec, main/protocol/fastboot/super) and the
 * logical partitions' data at their extents. This file maps logical partitions onto the super file: reading,
 * writing (raw and sparse, through the shared BlockSink seam of partition-io.ts / sparse-writer.ts) and hashing
 * go extent by extent, never holding a partition in memory.
 *
 * Metadata is kept identical in every metadata slot (primary and backup copies), as fastbootd's update-super
 * writes it; liblp's per-slot updates of create/resize/delete are simplified to "all slots".
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import {
  createPartition,
  deletePartition,
  flashSuperMetadata,
  type LogicalExtentRange,
  logicalPartitionExtents,
  newSuperMetadata,
  PARTITION_ATTRIBUTE,
  partitionSize,
  readSuperMetadata,
  resizePartition,
  type SuperMetadata,
  type SuperReader,
  type SuperWriter,
} from '../main/protocol/fastboot/super/index.js';
import { CommandFailure } from './device-errors.js';
import { type BlockSink, IO_BLOCK } from './partition-io.js';
import { SLOTS, type Slot } from './state-store.js';

const MiB = 1024 * 1024;

/** The logical partitions of a factory-fresh phone, per slot (`system_a`, `system_b`, …). */
export const FACTORY_LOGICAL_PARTITIONS = ['system', 'vendor', 'product'] as const;

/** Group of a slot's logical partitions, as AOSP builds name them (`<group>_a`, `<group>_b`). */
export function slotGroup(slot: Slot): string {
  return `main_${slot}`;
}

/** A factory layout for a super of `superSize` bytes: per slot system 25 %, vendor 10 %, product 5 %. */
export function factoryLayout(superSize: number): SuperMetadata {
  const share = (f: number) => Math.max(MiB, Math.floor((superSize * f) / MiB) * MiB);
  const sizes: Record<(typeof FACTORY_LOGICAL_PARTITIONS)[number], number> = {
    system: share(0.25),
    vendor: share(0.1),
    product: share(0.05),
  };
  return newSuperMetadata({
    size: superSize,
    metadataMaxSize: 65536,
    metadataSlotCount: SLOTS.length,
    groups: SLOTS.map((s) => ({ name: slotGroup(s), maximumSize: share(0.45) })),
    partitions: SLOTS.flatMap((s) =>
      FACTORY_LOGICAL_PARTITIONS.map((p) => ({
        name: `${p}_${s}`,
        group: slotGroup(s),
        size: sizes[p],
        attributes: PARTITION_ATTRIBUTE.readonly,
      })),
    ),
  });
}

/** Factory content of a logical partition: a short, recognisable header (the rest reads as zeros). */
export function factoryContent(name: string, version: string): Buffer {
  return Buffer.from(`FLASHLINE-FACTORY ${name} ${version}\n`, 'latin1');
}

function failure(err: unknown): CommandFailure {
  if (err instanceof CommandFailure) return err;
  return new CommandFailure(err instanceof Error ? err.message : String(err));
}

/** One physical piece of a logical byte range: `length` bytes at `offset` in super, or dropped (zero extent). */
interface Piece {
  readonly offset: number | null;
  readonly length: number;
}

export class SuperPartition {
  #metadata: SuperMetadata | null = null;
  #problem = '';

  constructor(
    readonly path: string,
    readonly size: number,
  ) {}

  /** A new super: sparse file of `size` bytes, factory metadata in every slot, factory content written. */
  static async createFactory(path: string, size: number, version: string): Promise<void> {
    const h = await fs.open(path, 'w');
    try {
      await h.truncate(size);
      const md = factoryLayout(size);
      await flashSuperMetadata(writerOf(h), md);
      const sp = new SuperPartition(path, size);
      sp.#metadata = md;
      for (const p of md.partitions) {
        const bytes = factoryContent(p.name, version);
        for (const piece of sp.#pieces(p.name, 0, bytes.byteLength)) {
          if (piece.offset !== null) await h.write(bytes, 0, piece.length, piece.offset);
        }
      }
      await h.sync();
    } finally {
      await h.close();
    }
  }

  /** Read the metadata (slot 0, falling back to the backup copy); unreadable metadata leaves no logical partitions. */
  async load(): Promise<void> {
    const h = await fs.open(this.path, 'r');
    try {
      this.#metadata = await readSuperMetadata(readerOf(h, this.size), { slot: 0 });
      this.#problem = '';
    } catch (err) {
      this.#metadata = null;
      this.#problem = err instanceof Error ? err.message : String(err);
    } finally {
      await h.close();
    }
  }

  /** The current metadata, or null when super holds none that is readable. */
  get metadata(): SuperMetadata | null {
    return this.#metadata;
  }

  #require(): SuperMetadata {
    if (this.#metadata) return this.#metadata;
    throw new CommandFailure(
      `super holds no readable partition table (${this.#problem || 'none written'}); send a super_empty.img with update-super super wipe`,
    );
  }

  /** Logical partition names in table order. */
  names(): string[] {
    return this.#metadata?.partitions.map((p) => p.name) ?? [];
  }

  has(name: string): boolean {
    return this.#metadata?.partitions.some((p) => p.name === name) ?? false;
  }

  sizeOf(name: string): number {
    return partitionSize(this.#require(), name);
  }

  /** Write new metadata to every slot (primary and backup), then use it. */
  async commit(next: SuperMetadata): Promise<void> {
    const h = await fs.open(this.path, 'r+');
    try {
      await flashSuperMetadata(writerOf(h), next);
      await h.sync();
    } finally {
      await h.close();
    }
    this.#metadata = next;
    this.#problem = '';
  }

  /** Layout operations (the codec refuses impossible requests; its message becomes the FAIL). */
  async create(name: string, size: number, group: string): Promise<void> {
    const md = this.#require();
    if (this.has(name)) throw new CommandFailure(`logical partition ${name} already exists`);
    await this.#apply(() => createPartition(md, { name, size, group }));
  }

  async resize(name: string, size: number): Promise<void> {
    const md = this.#require();
    this.#assertExists(name);
    await this.#apply(() => resizePartition(md, name, size));
  }

  async delete(name: string): Promise<void> {
    const md = this.#require();
    this.#assertExists(name);
    await this.#apply(() => deletePartition(md, name));
  }

  async #apply(op: () => SuperMetadata): Promise<void> {
    let next: SuperMetadata;
    try {
      next = op();
    } catch (err) {
      throw failure(err);
    }
    await this.commit(next);
  }

  #assertExists(name: string): void {
    if (!this.has(name)) {
      throw new CommandFailure(
        `no logical partition ${name} (logical partitions: ${this.names().join(', ') || 'none'})`,
      );
    }
  }

  /** Byte ranges of `[from, from + length)` of a logical partition inside super, in order. */
  #pieces(name: string, from: number, length: number): Piece[] {
    const out: Piece[] = [];
    const ranges: LogicalExtentRange[] = logicalPartitionExtents(this.#require(), name);
    const end = from + length;
    for (const r of ranges) {
      const lo = Math.max(from, r.logicalOffset);
      const hi = Math.min(end, r.logicalOffset + r.length);
      if (lo >= hi) continue;
      out.push({ offset: r.type === 'linear' ? r.offset + (lo - r.logicalOffset) : null, length: hi - lo });
    }
    return out;
  }

  /** A positional sink onto a logical partition (offsets inside the partition), for raw and sparse writes. */
  async openSink(name: string): Promise<BlockSink & { close(): Promise<void> }> {
    const size = this.sizeOf(name);
    const h = await fs.open(this.path, 'r+');
    return {
      write: async (buf, offset, length, position) => {
        if (position + length > size) {
          throw new CommandFailure(
            `write reaches byte ${position + length} but logical partition ${name} holds ${size}`,
          );
        }
        let done = 0;
        for (const piece of this.#pieces(name, position, length)) {
          if (piece.offset !== null) await h.write(buf, offset + done, piece.length, piece.offset);
          done += piece.length;
        }
      },
      sync: () => h.sync(),
      close: () => h.close(),
    };
  }

  /** Write zeros over a whole logical partition (erase), then fsync. */
  async zero(name: string): Promise<void> {
    const size = this.sizeOf(name);
    const sink = await this.openSink(name);
    try {
      const zeros = Buffer.alloc(Math.min(IO_BLOCK, Math.max(size, 1)));
      for (let done = 0; done < size; done += zeros.byteLength) {
        await sink.write(zeros, 0, Math.min(zeros.byteLength, size - done), done);
      }
      await sink.sync();
    } finally {
      await sink.close();
    }
  }

  /** SHA-256 of the first `length` bytes of a logical partition (default: all of it), read through its extents. */
  async sha256(name: string, length = this.sizeOf(name)): Promise<string> {
    const hash = createHash('sha256');
    const h = await fs.open(this.path, 'r');
    try {
      const buf = Buffer.allocUnsafe(IO_BLOCK);
      for (const piece of this.#pieces(name, 0, length)) {
        for (let done = 0; done < piece.length; ) {
          const n = Math.min(buf.byteLength, piece.length - done);
          if (piece.offset === null) buf.fill(0, 0, n);
          else await h.read(buf, 0, n, piece.offset + done);
          hash.update(buf.subarray(0, n));
          done += n;
        }
      }
    } finally {
      await h.close();
    }
    return hash.digest('hex');
  }
}

function readerOf(h: fs.FileHandle, size: number): SuperReader {
  return {
    async read(offset, length) {
      const n = Math.max(0, Math.min(length, size - offset));
      // A plain Uint8Array, not a Buffer: the codec may slice() it expecting a copy (Buffer.slice is a view).
      const bytes = new Uint8Array(n);
      const { bytesRead } = await h.read(bytes, 0, n, offset);
      return bytes.subarray(0, bytesRead);
    },
  };
}

function writerOf(h: fs.FileHandle): SuperWriter {
  return {
    async write(offset, bytes) {
      await h.write(bytes, 0, bytes.byteLength, offset);
    },
  };
}
