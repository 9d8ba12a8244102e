/**
 * Packing: hash every image (size, SHA-256, block list), build and sign the canonical manifest, then write
 * the tar container in its fixed order through writeFileAtomic, so a crash never leaves a partial .flp.
 * Images are streamed twice from their files (hash pass, then write pass); nothing is held whole in memory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { writeFileAtomic } from '../common/atomic-write.js';
import { FlashlineError } from '../common/errors.js';
import { isPackageCode } from './codes.js';
import { ENTRY } from './container.js';
import { encryptChunk, encryptedSize, imageKey, wrapContentKey } from './encryption.js';
import { units } from './image-stream.js';
import { type SigningPrivateKey, type StationPublicKey, signManifest } from './keys.js';
import {
  DEFAULT_HASH_BLOCK_SIZE,
  FORMAT_NAME,
  FORMAT_VERSION,
  type ImageKind,
  type InstallStep,
  type Manifest,
  type ManifestImage,
  manifestBytes,
  validateManifest,
} from './manifest.js';
import type { RescueSection } from './rescue-manifest.js';

/** Opens the image bytes afresh; the packer reads them twice (hash pass, write pass). */
export type ImageOpener = () => Promise<AsyncIterable<Buffer>>;

export interface PackImageInput {
  readonly partition: string;
  /**
   * A file path; a stream (spooled to a temporary file so it can be read twice); or an opener called once
   * per pass (hash, then write), for sources that can be read again without a copy (a zip entry).
   */
  readonly source: string | Readable | ImageOpener;
  /** When given, the image must have exactly this size. */
  readonly size?: number;
  readonly slotted?: boolean;
  readonly sparse?: boolean;
  /** Left out of the manifest when not given (a `partition`). */
  readonly kind?: ImageKind;
  /** Rescue packages: the image's file name in the vendor folder. */
  readonly file?: string;
}

export interface PackOptions {
  readonly outPath: string;
  readonly products: readonly string[];
  readonly version: string;
  readonly rollbackIndex: number;
  readonly images: readonly PackImageInput[];
  readonly keys: readonly SigningPrivateKey[];
  readonly encryptTo?: readonly StationPublicKey[];
  readonly expectedVersion?: string;
  readonly created?: Date;
  /** Default: created + 365 days. */
  readonly expires?: Date;
  readonly hardwareRevisions?: readonly string[];
  readonly minBootloaderVersion?: string;
  readonly minFlashlineVersion?: string;
  readonly install?: readonly InstallStep[];
  readonly description?: string;
  /** Fastboot variable → accepted values (android-info.txt `require` lines). */
  readonly deviceRequirements?: Readonly<Record<string, readonly string[]>>;
  /** A rescue package for a device in Qualcomm EDL (rescue-manifest.ts); images then carry `file`. */
  readonly rescue?: RescueSection;
  readonly blockSize?: number;
  readonly signal?: AbortSignal;
}

export interface PackResult {
  readonly path: string;
  readonly manifest: Manifest;
  readonly bytes: number;
}

interface HashedImage {
  readonly open: () => Promise<AsyncIterable<Buffer>>;
  readonly image: ManifestImage;
  readonly blockList: Buffer;
}

async function spool(source: Readable, signal?: AbortSignal): Promise<string> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'flashline-pack-'));
  const file = join(dir, 'image');
  await pipeline(source, createWriteStream(file), ...(signal ? [{ signal }] : []));
  return file;
}

async function hashImage(
  input: PackImageInput,
  open: () => Promise<AsyncIterable<Buffer>>,
  what: string,
  blockSize: number,
): Promise<HashedImage> {
  const whole = createHash('sha256');
  const list: Buffer[] = [];
  let size = 0;
  try {
    const stream = await open();
    for await (const block of units(stream, blockSize)) {
      whole.update(block);
      list.push(createHash('sha256').update(block).digest());
      size += block.byteLength;
    }
  } catch (err) {
    // A source that already judged its input (an Android image refusing a damaged zip: 21) keeps its code.
    throw new FlashlineError(
      err instanceof FlashlineError && isPackageCode(err.code) ? err.code : 'bad_input',
      `Cannot read image ${input.partition} from ${what}: ${(err as Error).message}`,
      err instanceof FlashlineError ? err.detail : undefined,
    );
  }
  if (input.size !== undefined && input.size !== size) {
    throw new FlashlineError(
      'bad_input',
      `Image ${input.partition} is ${size} bytes, expected ${input.size}.`,
    );
  }
  const blockList = Buffer.concat(list);
  return {
    open,
    blockList,
    image: {
      partition: input.partition,
      size,
      sha256: whole.digest('hex'),
      blockSize,
      blocksSha256: createHash('sha256').update(blockList).digest('hex'),
      slotted: input.slotted ?? true,
      sparse: input.sparse ?? false,
      ...(input.kind ? { kind: input.kind } : {}),
      ...(input.file !== undefined ? { file: input.file } : {}),
    },
  };
}

/** Stream `source` into a tar entry with backpressure (tar-stream's sinks are streamx, not Node streams). */
async function writeEntry(
  pack: tar.Pack,
  name: string,
  size: number,
  mtime: Date,
  source: AsyncIterable<Uint8Array>,
): Promise<void> {
  let failure: Error | undefined;
  const done = new Promise<void>((resolve, reject) => {
    const sink = pack.entry(
      { name, size, type: 'file', mode: 0o644, mtime, uid: 0, gid: 0, uname: '', gname: '' },
      (err) => (err ? reject(err) : resolve()),
    );
    void (async () => {
      try {
        for await (const chunk of source) {
          if (!sink.write(chunk)) await new Promise<void>((r) => sink.once('drain', () => r()));
        }
        sink.end(undefined);
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
        sink.destroy(failure);
        reject(failure);
      }
    })();
  });
  await done;
}

async function writeSmall(pack: tar.Pack, name: string, data: Buffer, mtime: Date): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    pack.entry(
      { name, size: data.byteLength, type: 'file', mode: 0o644, mtime, uid: 0, gid: 0, uname: '', gname: '' },
      data,
      (err) => (err ? reject(err) : resolve()),
    );
  });
}

export async function packPackage(options: PackOptions): Promise<PackResult> {
  if (options.keys.length === 0)
    throw new FlashlineError('bad_input', 'At least one signing key is needed (--key).');
  const blockSize = options.blockSize ?? DEFAULT_HASH_BLOCK_SIZE;
  const spooled: string[] = [];
  try {
    const hashed: HashedImage[] = [];
    for (const input of options.images) {
      const source = input.source;
      let open: () => Promise<AsyncIterable<Buffer>>;
      let what: string;
      if (typeof source === 'function') {
        open = source;
        what = input.partition;
      } else {
        const file = typeof source === 'string' ? source : await spool(source, options.signal);
        if (typeof source !== 'string') spooled.push(file);
        const signal = options.signal;
        open = async () =>
          createReadStream(file, {
            highWaterMark: blockSize,
            ...(signal ? { signal } : {}),
          }) as AsyncIterable<Buffer>;
        what = file;
      }
      hashed.push(await hashImage(input, open, what, blockSize));
    }
    const created = options.created ?? new Date();
    const expires = options.expires ?? new Date(created.getTime() + 365 * 24 * 3600 * 1000);
    const manifest = validateManifest({
      format: FORMAT_NAME,
      formatVersion: FORMAT_VERSION,
      products: [...options.products],
      ...(options.hardwareRevisions ? { hardwareRevisions: [...options.hardwareRevisions] } : {}),
      ...(options.minBootloaderVersion ? { minBootloaderVersion: options.minBootloaderVersion } : {}),
      version: options.version,
      rollbackIndex: options.rollbackIndex,
      created: created.toISOString(),
      expires: expires.toISOString(),
      ...(options.minFlashlineVersion ? { minFlashlineVersion: options.minFlashlineVersion } : {}),
      images: hashed.map((h) => h.image),
      ...(options.install ? { install: [...options.install] } : {}),
      expectedVersion: options.expectedVersion ?? options.version,
      ...(options.description ? { description: options.description } : {}),
      ...(options.deviceRequirements
        ? {
            deviceRequirements: Object.fromEntries(
              Object.entries(options.deviceRequirements).map(([k, v]) => [k, [...v]]),
            ),
          }
        : {}),
      ...(options.rescue ? { rescue: options.rescue } : {}),
    });
    const mbytes = manifestBytes(manifest);
    const signatures = options.keys.map((k) => ({
      keyId: k.keyId,
      signature: Buffer.from(signManifest(k, mbytes)).toString('base64'),
    }));
    const enc =
      options.encryptTo && options.encryptTo.length > 0 ? wrapContentKey(options.encryptTo) : undefined;
    const pack = tar.pack();
    const mtime = new Date(Math.floor(created.getTime() / 1000) * 1000);
    const produce = (async () => {
      await writeSmall(pack, ENTRY.manifest, mbytes, mtime);
      await writeSmall(pack, ENTRY.signatures, Buffer.from(JSON.stringify({ signatures })), mtime);
      if (enc) await writeSmall(pack, ENTRY.encryption, Buffer.from(enc.headerJson), mtime);
      for (const h of hashed) {
        await writeSmall(pack, ENTRY.blocks(h.image.partition), h.blockList, mtime);
        const size = enc ? encryptedSize(h.image.size, blockSize) : h.image.size;
        const raw = await h.open();
        if (enc) {
          const key = imageKey(enc.contentKey, h.image.partition);
          const total = h.image.size === 0 ? 1 : Math.ceil(h.image.size / blockSize);
          const chunks = async function* () {
            let i = 0;
            for await (const block of units(raw, blockSize)) {
              yield encryptChunk(key, i, i === total - 1, block);
              i++;
            }
            if (i === 0) yield encryptChunk(key, 0, true, Buffer.alloc(0));
          };
          await writeEntry(pack, ENTRY.image(h.image.partition), size, mtime, chunks());
        } else {
          await writeEntry(
            pack,
            ENTRY.image(h.image.partition),
            size,
            mtime,
            sized(raw, h.image.size, h.image.partition),
          );
        }
      }
      pack.finalize();
    })();
    produce.catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
    const expected = hashed.reduce((n, h) => n + h.image.size + h.blockList.byteLength + 4096, 64 * 1024);
    await writeFileAtomic(options.outPath, pack as unknown as AsyncIterable<Uint8Array>, {
      expectedSize: expected,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    await produce;
    const { size } = await fs.stat(options.outPath);
    return { path: options.outPath, manifest, bytes: size };
  } finally {
    for (const f of spooled) await fs.rm(join(f, '..'), { recursive: true, force: true });
  }
}

/**
 * The write pass must yield exactly the bytes the hash pass saw; an opener whose source changed in between
 * (a file rewritten under the packer) would otherwise make a tar entry of the wrong length.
 */
async function* sized(
  source: AsyncIterable<Buffer>,
  size: number,
  partition: string,
): AsyncIterable<Uint8Array> {
  let n = 0;
  for await (const chunk of source) {
    n += chunk.byteLength;
    if (n > size) break;
    yield chunk;
  }
  if (n !== size)
    throw new FlashlineError(
      'bad_input',
      `Image ${partition} changed while it was being packed (${n} bytes, then ${size}).`,
    );
}

/** A random hex id, for temporary names. */
export const randomId = (): string => randomBytes(6).toString('hex');
