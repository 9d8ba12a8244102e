/**
 * `flashline virtual-device make-rescue-dir --out DIR [--storage ufs|emmc]`: a vendor-style Qualcomm rescue
 * folder for the `qualcomm-edl` virtual device (virtual-device/edl/rescue-dir.ts). Pack it with
 * `flashline pack --from-qualcomm-dir DIR`, then `flashline rescue PKG`; the device then boots into fastboot.
 */
import { type Command, InvalidArgumentError } from 'commander';

interface MakeRescueOpts {
  out: string;
  storage: 'ufs' | 'emmc';
  oemPkHash?: string;
}

export function registerMakeRescueDir(parent: Command): void {
  parent
    .command('make-rescue-dir')
    .description(
      'write a Qualcomm rescue folder (programmer, rawprogram0.xml, patch0.xml, GPT and bootable images) for the qualcomm-edl virtual device',
    )
    .requiredOption('--out <dir>', 'folder to write (created if needed)')
    .option(
      '--storage <type>',
      'ufs (4096-byte sectors, default) or emmc (512): must match the device',
      (v: string) => {
        if (v !== 'ufs' && v !== 'emmc') throw new InvalidArgumentError(`'${v}' is not ufs or emmc.`);
        return v;
      },
      'ufs',
    )
    .option(
      '--oem-pk-hash <hex>',
      "sign the programmer for this OEM PK hash (default: the virtual device's)",
      (v: string) => {
        if (!/^[0-9a-fA-F]{64}$/.test(v))
          throw new InvalidArgumentError('give the 64 hex digits of the SHA-256.');
        return v.toLowerCase();
      },
    )
    .action(async (opts: MakeRescueOpts) => {
      const { DEFAULT_OEM_PK_HASH, makeRescueDir } = await import('../../../virtual-device/index.js');
      const made = await makeRescueDir({
        out: opts.out,
        storage: opts.storage,
        oemPkHash: opts.oemPkHash ? Buffer.from(opts.oemPkHash, 'hex') : DEFAULT_OEM_PK_HASH,
      });
      process.stdout.write(
        `wrote ${made.dir} (${made.storage}): ${made.files.join(', ')}\n` +
          `pack it: flashline pack --from-qualcomm-dir ${made.dir} --product flashline-virtual --version 1.0.0 --key KEY --out rescue.flp\n`,
      );
    });
}
