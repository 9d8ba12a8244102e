/**
 * The demo package helper. It signs with the shipped demo key (resources/demo/, public on purpose), whose
 * trust entry in resources/keys/ is scoped to the virtual device's product only — so a demo package can
 * never authorize a real device.
 */
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { resourcesDir } from '../common/paths.js';
import { VIRTUAL_PRODUCT_ID } from '../common/products.js';
import { loadSigningPrivateKey } from './keys.js';
import { type PackResult, packPackage } from './writer.js';

export const DEMO_SIGNING_KEY_PATH = join(resourcesDir, 'demo', 'demo-signing.key');
export const DEMO_TRUST_KEY_PATH = join(resourcesDir, 'keys', 'flashline-demo.pub');

export interface DemoImage {
  readonly partition: string;
  readonly source: string | Readable;
  readonly size?: number;
  readonly slotted?: boolean;
  readonly sparse?: boolean;
}

export interface DemoPackageOptions {
  readonly outPath: string;
  readonly images: readonly DemoImage[];
  readonly version: string;
  readonly rollbackIndex: number;
  readonly expectedVersion?: string;
  readonly blockSize?: number;
  readonly signal?: AbortSignal;
}

export async function createDemoPackage(options: DemoPackageOptions): Promise<PackResult> {
  const key = await loadSigningPrivateKey(DEMO_SIGNING_KEY_PATH);
  return packPackage({
    outPath: options.outPath,
    products: [VIRTUAL_PRODUCT_ID],
    version: options.version,
    rollbackIndex: options.rollbackIndex,
    ...(options.expectedVersion ? { expectedVersion: options.expectedVersion } : {}),
    images: options.images,
    keys: [key],
    description: 'Flashline demo package for the virtual device (signed with the public demo key).',
    ...(options.blockSize ? { blockSize: options.blockSize } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
