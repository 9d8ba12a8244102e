/** Test helpers: keys, trust stores and hand-built (possibly hostile) package files. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import { canonicalJson } from '../../../main/package/canonical-json.js';
import {
  generateKeyPair,
  loadSigningPrivateKey,
  loadTrustStore,
  type SigningPrivateKey,
  type TrustStore,
  writeKeyPair,
} from '../../../main/package/index.js';
import { signManifest } from '../../../main/package/keys.js';
import { FORMAT_NAME, type ManifestImage, validateManifest } from '../../../main/package/manifest.js';

export const PRODUCT = 'acme-phone';
export const BLOCK = 4096;

export interface Fixture {
  readonly dir: string;
  readonly key: SigningPrivateKey;
  readonly trust: TrustStore;
  readonly trustDir: string;
  cleanup(): void;
}

export async function makeFixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'flashline-pkg-test-'));
  const trustDir = join(dir, 'trust');
  const pair = generateKeyPair({ products: [PRODUCT, 'acme-router'] });
  await writeKeyPair(join(dir, 'release'), pair);
  await writeKeyPair(join(trustDir, 'release'), pair);
  const key = await loadSigningPrivateKey(join(dir, 'release.key'));
  const trust = await loadTrustStore({ dirs: [trustDir] });
  return { dir, key, trust, trustDir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Deterministic pseudo-random bytes. */
export function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest();

export function describeImage(
  partition: string,
  data: Buffer,
  blockSize = BLOCK,
): { image: ManifestImage; blocks: Buffer } {
  const list: Buffer[] = [];
  for (let o = 0; o < data.length; o += blockSize) list.push(sha(data.subarray(o, o + blockSize)));
  const blocks = Buffer.concat(list);
  return {
    blocks,
    image: {
      partition,
      size: data.length,
      sha256: sha(data).toString('hex'),
      blockSize,
      blocksSha256: sha(blocks).toString('hex'),
      slotted: true,
      sparse: false,
    },
  };
}

export function baseManifest(
  images: ManifestImage[],
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    format: FORMAT_NAME,
    formatVersion: '1.0',
    products: [PRODUCT],
    version: '2.0.0',
    rollbackIndex: 5,
    created: '2026-01-01T00:00:00.000Z',
    expires: '2036-01-01T00:00:00.000Z',
    images,
    expectedVersion: '2.0.0',
    ...over,
  };
}

export function signaturesJson(manifestBytes: Buffer, keys: readonly SigningPrivateKey[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      signatures: keys.map((k) => ({
        keyId: k.keyId,
        signature: Buffer.from(signManifest(k, manifestBytes)).toString('base64'),
      })),
    }),
  );
}

export interface RawEntry {
  readonly name: string;
  readonly data?: Buffer;
  readonly type?: tar.Header['type'];
  readonly linkname?: string;
  readonly pax?: Record<string, string>;
}

/** Write a tar with exactly these entries (no validation — this is how hostile packages are made). */
export async function writeRawTar(path: string, entries: readonly RawEntry[]): Promise<void> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  })();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const header = {
        name: e.name,
        type: e.type ?? 'file',
        mode: 0o644,
        mtime: new Date(0),
        ...(e.linkname ? { linkname: e.linkname } : {}),
        ...(e.pax ? { pax: e.pax } : {}),
        size: e.data?.length ?? 0,
      };
      pack.entry(header, e.data ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await collected;
  writeFileSync(path, Buffer.concat(chunks));
}

export interface Built {
  readonly manifest: Record<string, unknown>;
  readonly manifestBytes: Buffer;
  readonly images: Record<string, Buffer>;
  readonly entries: RawEntry[];
}

/** A valid (by default) package as raw entries, ready to be made hostile by the caller. */
export function buildEntries(
  keys: readonly SigningPrivateKey[],
  images: Record<string, Buffer>,
  over: Record<string, unknown> = {},
): Built {
  const described = Object.entries(images).map(([p, d]) => ({ p, ...describeImage(p, d) }));
  const manifest = baseManifest(
    described.map((d) => d.image),
    over,
  );
  const manifestBytes = Buffer.from(canonicalJson(manifest));
  const entries: RawEntry[] = [
    { name: 'manifest.json', data: manifestBytes },
    { name: 'signatures.json', data: signaturesJson(manifestBytes, keys) },
  ];
  for (const d of described) {
    entries.push({ name: `images/${d.p}.blocks`, data: d.blocks });
    entries.push({ name: `images/${d.p}.img`, data: images[d.p]! });
  }
  return { manifest, manifestBytes, images, entries };
}

/** Read every byte an image stream releases, and the error that ended it (if any). */
export async function drainImage(
  stream: AsyncIterable<Buffer>,
): Promise<{ received: Buffer; error?: unknown }> {
  const parts: Buffer[] = [];
  try {
    for await (const c of stream) parts.push(c);
    return { received: Buffer.concat(parts) };
  } catch (error) {
    return { received: Buffer.concat(parts), error };
  }
}

/** The message validateManifest refuses `value` with (fails the test when it is accepted). */
export function refusal(value: Record<string, unknown>): string {
  try {
    validateManifest(value);
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail('the manifest was accepted');
}
