/**
 * The streaming install: the package file flows from the repository (HTTP ranges) through its segments
 * (package-layout.ts) straight into the inactive slot — no copy of the package or of an image anywhere else.
 * Each image block is decrypted (encrypted packages), hashed and compared with the signed block list before
 * it is written at its place in the slot partition; the whole-image SHA-256 and exact size are confirmed at
 * the image's end, and the whole file's SHA-256 (the TUF target hash) and length at the file's end. The slot
 * stays marked unbootable (boot.ts) until all of that passed.
 *
 * Power loss: every few MiB (and at each entry boundary) a checkpoint records the offset and the saved
 * SHA-256 states (hash-wasm's save/load), after the slot data before it is synced; the next poll resumes
 * from the checkpoint with a `Range: bytes=OFFSET-` request. A connection that drops resumes in memory.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSHA256, type IHasher } from 'hash-wasm';
import { FlashlineError } from '../../main/common/errors.js';
import { PKG, pkgError } from '../../main/package/codes.js';
import { decryptChunk, imageKey, TAG_BYTES } from '../../main/package/encryption.js';
import { checkBlockList } from '../../main/package/image-stream.js';
import type { ManifestImage } from '../../main/package/manifest.js';
import { openRange, TransientHttpError } from '../../main/repo/ranged-get.js';
import type { VirtualDevice } from '../device.js';
import type { Slot } from '../state-store.js';
import type { AgentStore, Checkpoint } from './agent-store.js';
import type { Segment } from './package-layout.js';

const CHECKPOINT_BYTES = 4 * 1024 * 1024;

export interface SlotStreamInput {
  readonly url: string;
  readonly length: number;
  /** The TUF target hash of the whole file. */
  readonly sha256: string;
  readonly images: readonly ManifestImage[];
  readonly contentKey?: Buffer | undefined;
  readonly segments: readonly Segment[];
  /** Bytes [0, headEnd) (the head, already checked) — hashed from the saved head when starting afresh. */
  readonly head: Buffer;
  readonly slot: Slot;
  readonly device: VirtualDevice;
  readonly store: AgentStore;
  readonly checkpoint: Checkpoint | null;
  readonly save: (cp: Checkpoint) => Promise<void>;
  readonly onBytes?: (offset: number) => void;
  readonly signal?: AbortSignal;
}

interface ImageState {
  readonly index: number;
  readonly img: ManifestImage;
  readonly list: Buffer;
  readonly hash: IHasher;
  readonly file: fs.FileHandle;
  readonly key: Buffer | undefined;
  readonly unit: number;
  /** The next block (AEAD chunk) to complete. */
  block: number;
  carry: Buffer;
  fill: number;
}

const b64 = (state: Uint8Array) => Buffer.from(state).toString('base64');
const unb64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

/** Walks the segments; `feed` takes the file's bytes in order, from `offset`. */
class SlotWriter {
  offset: number;
  #seg = 0;
  #image: ImageState | null = null;
  #list: Buffer[] = [];
  #lastCheckpoint: number;

  private constructor(
    private readonly input: SlotStreamInput,
    private readonly fileHash: IHasher,
    offset: number,
  ) {
    this.offset = offset;
    this.#lastCheckpoint = offset;
    while (this.#seg < input.segments.length && input.segments[this.#seg]!.end <= offset) this.#seg++;
  }

  static async open(input: SlotStreamInput): Promise<SlotWriter> {
    const fileHash = await createSHA256();
    const cp = input.checkpoint;
    if (!cp) {
      fileHash.init();
      fileHash.update(input.head);
      return new SlotWriter(input, fileHash, input.head.byteLength);
    }
    fileHash.load(unb64(cp.fileHash));
    const w = new SlotWriter(input, fileHash, cp.offset);
    if (cp.image) await w.#openImage(cp.image.index, cp.image.block, cp.image.hash);
    return w;
  }

  get done(): boolean {
    return this.#seg >= this.input.segments.length;
  }

  async feed(chunk: Uint8Array): Promise<void> {
    const { segments } = this.input;
    let pos = 0;
    while (pos < chunk.byteLength) {
      const seg = segments[this.#seg];
      if (!seg) throw this.#refuse('the server sends more data than the repository signed');
      const n = Math.min(seg.end - this.offset, chunk.byteLength - pos);
      const piece = chunk.subarray(pos, pos + n);
      if (seg.kind === 'image') await this.#imageBytes(seg, piece);
      else {
        this.fileHash.update(piece);
        if (seg.kind === 'zeros' && piece.some((b) => b !== 0))
          throw pkgError(PKG.malformed, 'The package has unexpected bytes in its padding; it was altered.');
        if (seg.kind === 'list') this.#list.push(Buffer.from(piece));
        this.offset += n;
      }
      pos += n;
      if (this.offset === seg.end) await this.#endSegment(seg);
    }
  }

  async #endSegment(seg: Segment): Promise<void> {
    this.#seg++;
    if (seg.kind === 'list') {
      const img = this.input.images[seg.image]!;
      const list = checkBlockList(img, Buffer.concat(this.#list));
      this.#list = [];
      const path = this.input.store.blocksPath(img.partition);
      this.input.store.guard();
      await fs.mkdir(dirname(path), { recursive: true });
      await fs.writeFile(path, list);
      // The image's data follows right after this list's padding and header.
      await this.#openImage(seg.image, 0, undefined);
    } else if (seg.kind === 'image') {
      await this.#finishImage();
    }
    await this.#checkpoint();
  }

  async #openImage(index: number, block: number, hashState: string | undefined): Promise<void> {
    const img = this.input.images[index]!;
    const list = checkBlockList(img, await fs.readFile(this.input.store.blocksPath(img.partition)));
    const hash = await createSHA256();
    if (hashState) hash.load(unb64(hashState));
    else hash.init();
    const name = `${img.partition}_${this.input.slot}`;
    const path = this.input.device.store.partitionPath(name);
    this.input.store.guard();
    // A fresh image starts from an empty partition; a resumed one keeps the verified blocks already there.
    const file = await fs.open(path, block === 0 ? 'w' : 'r+');
    const encrypted = this.input.contentKey !== undefined;
    this.#image = {
      index,
      img,
      list,
      hash,
      file,
      key: this.input.contentKey ? imageKey(this.input.contentKey, img.partition) : undefined,
      unit: img.blockSize + (encrypted ? TAG_BYTES : 0),
      block,
      carry: Buffer.allocUnsafe(img.blockSize + (encrypted ? TAG_BYTES : 0)),
      fill: 0,
    };
  }

  /** Image data: hashed into the file hash as consumed, cut into blocks; a checkpoint every few MiB. */
  async #imageBytes(seg: Segment, piece: Uint8Array): Promise<void> {
    const im = this.#image!;
    let pos = 0;
    while (pos < piece.byteLength) {
      const n = Math.min(im.unit - im.fill, piece.byteLength - pos);
      const part = piece.subarray(pos, pos + n);
      this.fileHash.update(part);
      Buffer.from(part.buffer, part.byteOffset, part.byteLength).copy(im.carry, im.fill);
      im.fill += n;
      pos += n;
      this.offset += n;
      const atEnd = this.offset === seg.end;
      if (im.fill === im.unit || atEnd) {
        await this.#block(im, im.carry.subarray(0, im.fill), atEnd);
        im.fill = 0;
        if (!atEnd && this.offset - this.#lastCheckpoint >= CHECKPOINT_BYTES) await this.#checkpoint();
      }
    }
  }

  /** One block: decrypt, compare with the signed list, then (only then) write it into the slot. */
  async #block(im: ImageState, stored: Buffer, last: boolean): Promise<void> {
    const { img } = im;
    const plain = im.key ? decryptChunk(im.key, im.block, last, stored, img.partition) : stored;
    if (plain.byteLength > 0) {
      const want = im.list.subarray(im.block * 32, im.block * 32 + 32);
      if (want.byteLength !== 32 || !createHash('sha256').update(plain).digest().equals(want))
        throw pkgError(
          PKG.imageMismatch,
          `Image ${img.partition}: block ${im.block} (offset ${im.block * img.blockSize}) does not match the signed block list; it was not written.`,
          { partition: img.partition, block: im.block },
        );
      im.hash.update(plain);
      this.input.store.guard();
      await im.file.write(plain, 0, plain.byteLength, im.block * img.blockSize);
    }
    im.block++;
  }

  async #finishImage(): Promise<void> {
    const im = this.#image;
    if (!im) return;
    this.#image = null;
    const { img } = im;
    try {
      const size = (await im.file.stat()).size;
      const digest = im.hash.digest('hex');
      if (size !== img.size || digest !== img.sha256)
        throw pkgError(
          PKG.imageMismatch,
          `Image ${img.partition} is ${size} bytes with SHA-256 ${digest}; the signed manifest says ${img.size} bytes, ${img.sha256}.`,
          { partition: img.partition },
        );
      this.input.store.guard();
      await im.file.sync();
    } finally {
      await im.file.close();
      await this.input.device.refreshContentSize(`${img.partition}_${this.input.slot}`);
    }
  }

  /** After the slot data it covers is on disk: where a resume starts. */
  async #checkpoint(): Promise<void> {
    const im = this.#image;
    if (im && im.fill !== 0) return;
    this.input.store.guard();
    await im?.file.datasync();
    await this.input.save({
      offset: this.offset,
      fileHash: b64(this.fileHash.save()),
      ...(im ? { image: { index: im.index, block: im.block, hash: b64(im.hash.save()) } } : {}),
    });
    this.#lastCheckpoint = this.offset;
  }

  finish(): void {
    if (!this.done || this.offset !== this.input.length)
      throw this.#refuse(`the server ended the file after ${this.offset} bytes`);
    if (this.fileHash.digest('hex') !== this.input.sha256)
      throw this.#refuse('the file does not have the SHA-256 the repository signed (altered on the mirror)');
  }

  async close(): Promise<void> {
    await this.#image?.file.close().catch(() => {});
  }

  #refuse(what: string): FlashlineError {
    return new FlashlineError(
      PKG.imageMismatch,
      `${this.input.url}: ${what}; the repository signed ${this.input.length} bytes. The slot it was written to stays unbootable; tell the repository operator or use another mirror.`,
      { url: this.input.url },
    );
  }
}

/** Stream the package into the slot (resuming from `checkpoint`); resolves once every check passed. */
export async function streamIntoSlot(input: SlotStreamInput, attempts = 6): Promise<void> {
  const writer = await SlotWriter.open(input);
  try {
    let drops = 0;
    while (!writer.done) {
      const from = writer.offset;
      try {
        const reader = await openRange(input.url, from, input.length, input.signal);
        try {
          for (let r = await reader.read(); !r.done; r = await reader.read()) {
            const chunk = r.value;
            const cut = input.device.cutOffset(
              'ota-download',
              writer.offset,
              writer.offset + chunk.byteLength,
            );
            if (cut !== null) {
              await writer.feed(chunk.subarray(0, cut - writer.offset));
              input.device.firePowerCut('ota-download');
            }
            await writer.feed(chunk);
            input.onBytes?.(writer.offset);
          }
        } finally {
          await reader.cancel().catch(() => {});
        }
        if (!writer.done) throw new TransientHttpError(`the connection ended at byte ${writer.offset}`);
      } catch (err) {
        if (!(err instanceof TransientHttpError) || input.signal?.aborted) throw err;
        // Progress since the last drop earns the connection a fresh set of tries.
        drops = writer.offset > from ? 1 : drops + 1;
        if (drops >= attempts) {
          throw new FlashlineError(
            10,
            `${input.url}: the connection kept dropping (${err.message}). What arrived is in the slot; the next poll resumes at byte ${writer.offset}.`,
            { url: input.url },
          );
        }
        await sleep(
          Math.min(200 * 2 ** drops, 5000),
          undefined,
          input.signal ? { signal: input.signal } : {},
        );
      }
    }
    writer.finish();
  } finally {
    await writer.close();
  }
}
