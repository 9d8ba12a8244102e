/**
 * The package head over HTTP: the first bytes of the target file (manifest, signatures, encryption header,
 * up to the first block list's tar header) are fetched with a bounded range into `ota/head.bin` on the
 * device and read and judged by the host's own package code (readHead, checkHead: signatures against the
 * trust store, expiry, product, hardware, anti-rollback against the device's secure element, decryption key).
 * Nothing is written to a slot before this passes.
 */
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { FlashlineError } from '../../main/common/errors.js';
import { PKG, pkgError } from '../../main/package/codes.js';
import { ContainerReader, HEAD_LIMITS } from '../../main/package/container.js';
import { type PackageHead, readHead } from '../../main/package/head.js';
import { checkHead, type OpenPackageOptions, type TrustedHead } from '../../main/package/head-checks.js';
import { MANIFEST_LIMITS } from '../../main/package/manifest.js';
import { openRange } from '../../main/repo/ranged-get.js';
import type { VirtualDevice } from '../device.js';
import type { AgentStore } from './agent-store.js';

/** The largest head the format allows (manifest, signatures, encryption, their headers and padding). */
const MAX_HEAD =
  MANIFEST_LIMITS.maxBytes + HEAD_LIMITS.signaturesBytes + HEAD_LIMITS.encryptionBytes + 8 * 512;

export interface CheckedHead {
  readonly head: PackageHead;
  readonly trusted: TrustedHead;
  /** Where the first block list's tar header starts: the head is bytes [0, headEnd). */
  readonly headEnd: number;
  readonly bytes: Buffer;
}

async function fetchPrefix(url: string, length: number, n: number, path: string, store: AgentStore) {
  const reader = await openRange(url, 0, length, undefined, n);
  const parts: Buffer[] = [];
  let got = 0;
  try {
    for (let r = await reader.read(); !r.done && got < n; r = await reader.read()) {
      parts.push(Buffer.from(r.value));
      got += r.value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  store.guard();
  await fs.mkdir(dirname(path), { recursive: true });
  await fs.writeFile(path, Buffer.concat(parts).subarray(0, n));
}

/** Fetch and judge the head; a refusal is a 2x FlashlineError (from the package code). */
export async function fetchCheckedHead(
  url: string,
  length: number,
  device: VirtualDevice,
  store: AgentStore,
  options: OpenPackageOptions,
): Promise<CheckedHead> {
  for (let n = Math.min(64 * 1024, length); ; n = Math.min(n * 4, length, MAX_HEAD)) {
    if (device.cutOffset('ota-download', 0, n) !== null) device.firePowerCut('ota-download');
    await fetchPrefix(url, length, n, store.headPath, store);
    const reader = new ContainerReader(store.headPath);
    let head: PackageHead | undefined;
    let failure: unknown;
    try {
      head = await readHead(reader);
    } catch (err) {
      failure = err;
    } finally {
      reader.close();
    }
    if (head?.next) {
      const trusted = await checkHead(head, options);
      const headEnd = head.next.headerOffset;
      const bytes = (await fs.readFile(store.headPath)).subarray(0, headEnd);
      return { head, trusted, headEnd, bytes };
    }
    // Cut short by the probe: read more; at the format's limit (or the file's end) it is the package's fault.
    if (n >= length || n >= MAX_HEAD) {
      if (failure instanceof FlashlineError) throw failure;
      throw pkgError(PKG.malformed, 'The package has no image after its head; it is not a firmware package.');
    }
  }
}
