/**
 * The `sink` profile's storage path: a reference device that **discards** what it receives, so a benchmark
 * measures the host and the link, not the simulator's disk (issue 18). A download only counts its bytes and
 * keeps the first KEPT_BYTES of them in a small file — enough for the boot image header (version, rollback
 * index) the boot model reads, raw or inside a sparse piece; a flash writes that header and sizes the
 * partition file to the image's size without writing the rest (a sparse file: no disk, no data). Everything else (slots, boot
 * control, rollback, reboots, commit) is the reference device's model, so an engine job runs to the end.
 * The sink keeps no content, so it offers no device-side hash (`oem sha256` fails; its vendor profile,
 * resources/devices/flashline-sink.json, names none — the engine reports "not available", never a pass).
 */
import { promises as fs } from 'node:fs';
import { decodeSparse, SparseFormatError } from '../main/protocol/fastboot/sparse/index.js';
import type { DownloadedImage, DownloadTarget } from './download-buffer.js';
import { IMAGE_HEADER_SIZE } from './image-metadata.js';

/**
 * Bytes of a download the sink keeps: enough for a sparse piece's file header, its leading chunk headers and
 * the first IMAGE_HEADER_SIZE bytes of data.
 */
const KEPT_BYTES = 64 * 1024;

/** The fastboot variable a sink answers (`yes`), by which the host's vendor profile recognises it. */
export const SINK_VARIABLE = 'discards-data';

export class DiscardingDownload implements DownloadTarget {
  readonly #head: Buffer;
  #received = 0;

  constructor(
    readonly path: string,
    readonly size: number,
  ) {
    this.#head = Buffer.allocUnsafe(Math.min(KEPT_BYTES, size));
  }

  get received(): number {
    return this.#received;
  }

  /** Count the bytes; copy only those that fall into the head. No await: the receive path stays one hop. */
  write(chunk: Uint8Array): Promise<void> {
    if (this.#received + chunk.byteLength > this.size) {
      return Promise.reject(
        new RangeError(`download overflows: ${this.#received + chunk.byteLength} of ${this.size} bytes`),
      );
    }
    if (this.#received < this.#head.byteLength) {
      const take = Math.min(this.#head.byteLength - this.#received, chunk.byteLength);
      this.#head.set(chunk.subarray(0, take), this.#received);
    }
    this.#received += chunk.byteLength;
    return Promise.resolve();
  }

  async finish(): Promise<DownloadedImage> {
    if (this.#received !== this.size)
      throw new RangeError(`download incomplete: ${this.#received}/${this.size}`);
    await fs.writeFile(this.path, this.#head);
    return { path: this.path, size: this.size };
  }

  async close(): Promise<void> {}
}

/**
 * Flash a discarded download: of the bytes it kept, those that land in the partition's first
 * IMAGE_HEADER_SIZE (the boot header) are written — raw, or through the sparse decoder for a sparse piece
 * (DONT_CARE keeps what an earlier piece wrote there) — and the file is sized to `contentSize` without data.
 */
export async function flashDiscarded(
  image: DownloadedImage,
  partitionPath: string,
  contentSize: number,
  sparse: boolean,
): Promise<void> {
  const head = await fs.readFile(image.path);
  const out = await fs.open(partitionPath, sparse ? 'a+' : 'w').then(async (h) => {
    if (!sparse) return h;
    await h.close();
    return fs.open(partitionPath, 'r+');
  });
  try {
    if (sparse) {
      for (const [bytes, offset] of await sparseHead(head))
        await out.write(bytes, 0, bytes.byteLength, offset);
    } else {
      await out.write(head, 0, Math.min(head.byteLength, contentSize), 0);
    }
    await out.truncate(contentSize);
    await out.sync();
  } finally {
    await out.close();
  }
}

/** What a sparse image's kept head writes into the header region: [bytes, offset] pairs. */
async function sparseHead(head: Buffer): Promise<[Uint8Array, number][]> {
  const writes: [Uint8Array, number][] = [];
  const clip = (offset: number, length: number) => Math.min(length, IMAGE_HEADER_SIZE - offset);
  try {
    for await (const op of decodeSparse([head], { verifyCrc: false })) {
      if (op.offset >= IMAGE_HEADER_SIZE) break;
      if (op.kind === 'data')
        writes.push([Buffer.from(op.bytes.subarray(0, clip(op.offset, op.bytes.byteLength))), op.offset]);
      else if (op.kind === 'fill')
        writes.push([Buffer.alloc(clip(op.offset, op.length), Buffer.from(op.value)), op.offset]);
    }
  } catch (err) {
    // The head ends mid-image by design: running out of bytes is expected, anything else is a bad image.
    if (!(err instanceof SparseFormatError) || head.byteLength < KEPT_BYTES) throw err;
  }
  return writes;
}
