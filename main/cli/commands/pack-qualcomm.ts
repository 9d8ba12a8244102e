/**
 * `flashline pack --from-qualcomm-dir DIR`: a vendor rescue folder → a signed rescue package (kind
 * `qualcomm-rescue`, docs/package-format.md). Kept apart from pack.ts, which routes this mode here.
 */
import { FlashlineError } from '../../common/errors.js';
import type { SigningPrivateKey, StationPublicKey } from '../../package/index.js';

export interface QualcommPackFlags {
  product: string[];
  version?: string;
  rollbackIndex?: number;
  out: string;
  expiresInDays: number;
  programmer?: string;
  allowSecdata: boolean;
  forMsmHwId: string[];
  forOemPkHash: string[];
  manifest?: string;
  image: unknown[];
}

export async function packFromQualcommDir(
  opts: QualcommPackFlags,
  dir: string,
  keys: SigningPrivateKey[],
  encryptTo: StationPublicKey[],
  created: Date,
): Promise<void> {
  if (opts.manifest || opts.image.length > 0 || opts.product.length === 0 || !opts.version)
    throw new FlashlineError(
      'bad_input',
      '--from-qualcomm-dir takes its files from the folder: give --product and --version, and no --manifest or --image.',
    );
  for (const id of opts.forMsmHwId)
    if (!/^[0-9a-fA-F]{16}$/.test(id))
      throw new FlashlineError('bad_input', `--for-msm-hw-id ${id}: give the 16 hex digits Sahara reports.`);
  for (const h of opts.forOemPkHash)
    if (!/^[0-9a-fA-F]{64}$/.test(h))
      throw new FlashlineError('bad_input', `--for-oem-pk-hash ${h}: give the 64 hex digits of the SHA-256.`);
  const { packQualcommRescue } = await import('../../package/qualcomm-rescue/index.js');
  const { plan, rescue, pack } = await packQualcommRescue({
    dir,
    outPath: opts.out,
    products: opts.product,
    version: opts.version,
    keys,
    created,
    expires: new Date(created.getTime() + opts.expiresInDays * 86400_000),
    allowSecdata: opts.allowSecdata,
    msmHwIds: opts.forMsmHwId,
    oemPkHashes: opts.forOemPkHash,
    ...(opts.rollbackIndex !== undefined ? { rollbackIndex: opts.rollbackIndex } : {}),
    ...(opts.programmer !== undefined ? { programmer: opts.programmer } : {}),
    ...(encryptTo.length > 0 ? { encryptTo } : {}),
  });
  const m = pack.manifest;
  process.stdout.write(
    `wrote ${pack.path} (${pack.bytes} bytes): rescue package for ${m.products.join(', ')} ${m.version}, ` +
      `programmer ${rescue.programmer}, ${plan.programs.length} program/erase entries, ${plan.patches.length} patches` +
      `${rescue.storage ? `, ${rescue.storage}` : ''}, ${m.images.length} files\n`,
  );
}
