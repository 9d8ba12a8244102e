/**
 * A USB gadget built through libcomposite's configfs tree: device ids and strings, one configuration holding
 * one FunctionFS function, bound to a UDC (here `dummy_udc.0`). Unbinding (writing an empty line to `UDC`)
 * is what a cable pull looks like to both sides. Linux-only, root-only: it runs inside the USB test VM.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const CONFIGFS_GADGETS = '/sys/kernel/config/usb_gadget';

export interface GadgetSpec {
  /** Directory name under usb_gadget/. */
  readonly name: string;
  readonly vendorId: number;
  readonly productId: number;
  readonly serial: string;
  readonly manufacturer: string;
  readonly product: string;
  /** FunctionFS instance name: the function is `ffs.<instance>` and the mount source is `<instance>`. */
  readonly ffsInstance: string;
  /** Where functionfs is mounted (ep0, ep1, ep2 appear there). */
  readonly ffsMount: string;
  /** The configuration's string (default `fastboot`). */
  readonly configuration?: string;
}

const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

export class ConfigfsGadget {
  readonly dir: string;

  constructor(readonly spec: GadgetSpec) {
    if (!/^[A-Za-z0-9_.-]{1,32}$/.test(spec.name)) throw new Error(`bad gadget name ${spec.name}`);
    this.dir = join(CONFIGFS_GADGETS, spec.name);
  }

  /** Create the gadget tree and mount functionfs. The caller then writes descriptors to ep0 and binds. */
  async create(): Promise<void> {
    if (!existsSync(CONFIGFS_GADGETS)) {
      throw new Error(`${CONFIGFS_GADGETS} is missing: load libcomposite and mount configfs first`);
    }
    const s = this.spec;
    await mkdir(this.dir);
    await writeFile(join(this.dir, 'idVendor'), hex4(s.vendorId));
    await writeFile(join(this.dir, 'idProduct'), hex4(s.productId));
    await writeFile(join(this.dir, 'bcdUSB'), '0x0200');
    const strings = join(this.dir, 'strings', '0x409');
    await mkdir(strings, { recursive: true });
    await writeFile(join(strings, 'serialnumber'), s.serial);
    await writeFile(join(strings, 'manufacturer'), s.manufacturer);
    await writeFile(join(strings, 'product'), s.product);
    const config = join(this.dir, 'configs', 'c.1');
    await mkdir(join(config, 'strings', '0x409'), { recursive: true });
    await writeFile(join(config, 'strings', '0x409', 'configuration'), s.configuration ?? 'fastboot');
    await writeFile(join(config, 'MaxPower'), '100');
    const fn = join(this.dir, 'functions', `ffs.${s.ffsInstance}`);
    await mkdir(fn);
    await symlink(fn, join(config, `ffs.${s.ffsInstance}`));
    await mkdir(s.ffsMount, { recursive: true });
    await run('mount', ['-t', 'functionfs', s.ffsInstance, s.ffsMount]);
  }

  /** The first UDC the kernel offers (e.g. `dummy_udc.0`). */
  static async firstUdc(): Promise<string> {
    const udcs = await readdir('/sys/class/udc').catch(() => []);
    const first = udcs.sort()[0];
    if (!first) throw new Error('no USB device controller in /sys/class/udc: is dummy_hcd loaded?');
    return first;
  }

  async bind(udc: string): Promise<void> {
    await writeFile(join(this.dir, 'UDC'), udc);
  }

  /** Detach from the bus: the host sees the device disappear, like a pulled cable. */
  async unbind(): Promise<void> {
    await writeFile(join(this.dir, 'UDC'), '\n');
  }

  async boundTo(): Promise<string> {
    return (await readFile(join(this.dir, 'UDC'), 'utf8')).trim();
  }

  /** Best-effort teardown in the reverse order configfs requires. */
  async remove(): Promise<void> {
    const s = this.spec;
    const config = join(this.dir, 'configs', 'c.1');
    await this.unbind().catch(() => {});
    await unlink(join(config, `ffs.${s.ffsInstance}`)).catch(() => {});
    await run('umount', [s.ffsMount]).catch(() => {});
    await rmdir(join(config, 'strings', '0x409')).catch(() => {});
    await rmdir(config).catch(() => {});
    await rmdir(join(this.dir, 'functions', `ffs.${s.ffsInstance}`)).catch(() => {});
    await rmdir(join(this.dir, 'strings', '0x409')).catch(() => {});
    await rmdir(this.dir).catch(() => {});
  }
}
