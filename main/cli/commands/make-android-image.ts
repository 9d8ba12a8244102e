/**
 * `flashline virtual-device make-android-image`: write a small Android update image (zip) for tests, the
 * demo and training — see main/package/android-image/make.ts and docs/android-images.md. Registered under
 * `virtual-device` (the virtual phones are what boots it); loads the zip writer and codecs only when run.
 */
import type { Command } from 'commander';
import { parseNonNegativeInt, parsePositiveInt } from '../options.js';

interface MakeOpts {
  product: string;
  version: string;
  out: string;
  patchLevel?: string;
  superSize?: number;
  systemSize?: number;
  vendorSize?: number;
  productSize?: number;
  bootSize?: number;
  zip64: boolean;
  store: boolean;
}

export function registerMakeAndroidImage(parent: Command): void {
  parent
    .command('make-android-image')
    .description(
      'write an Android update image (zip: android-info.txt, boot.img, super_empty.img, sparse system/vendor) that the stock-android virtual phone boots as --version',
    )
    .requiredOption('--product <id>', 'product the image is for (android-info.txt: require board=ID)')
    .requiredOption(
      '--version <A.B.C>',
      'boot image os_version: the version the phone reports after booting it',
    )
    .requiredOption('--out <file.zip>', 'zip file to write')
    .option('--patch-level <YYYY-MM>', 'boot image security patch level (default 2026-11)')
    .option(
      '--super-size <bytes>',
      'super partition size in super_empty.img (default 268435456, the virtual phone’s)',
      parsePositiveInt,
    )
    .option('--system-size <bytes>', 'system.img size once written (default 33554432)', parsePositiveInt)
    .option('--vendor-size <bytes>', 'vendor.img size once written (default 16777216)', parsePositiveInt)
    .option(
      '--product-size <bytes>',
      'product.img size once written (default 0: no product.img)',
      parseNonNegativeInt,
    )
    .option('--boot-size <bytes>', 'boot.img size (default 1048576)', parsePositiveInt)
    .option(
      '--zip64',
      'zip64 headers on every entry (readers’ tests; Google fastboot 29 cannot read them)',
      false,
    )
    .option('--store', 'store the entries uncompressed (default: deflate, as factory images)', false)
    .action(async (opts: MakeOpts) => {
      const { makeAndroidImage } = await import('../../package/android-image/make.js');
      const made = await makeAndroidImage({
        product: opts.product,
        version: opts.version,
        outPath: opts.out,
        zip64: opts.zip64,
        compress: !opts.store,
        ...(opts.patchLevel !== undefined ? { patchLevel: opts.patchLevel } : {}),
        ...(opts.superSize !== undefined ? { superSize: opts.superSize } : {}),
        ...(opts.systemSize !== undefined ? { systemSize: opts.systemSize } : {}),
        ...(opts.vendorSize !== undefined ? { vendorSize: opts.vendorSize } : {}),
        ...(opts.productSize !== undefined ? { productSize: opts.productSize } : {}),
        ...(opts.bootSize !== undefined ? { bootSize: opts.bootSize } : {}),
      });
      process.stdout.write(
        `wrote ${made.path}: ${made.files.map((f) => `${f.name} (${f.size} bytes)`).join(', ')}\n`,
      );
    });
}
