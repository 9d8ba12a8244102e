/**
 * The virtual device's persistent state, one directory:
 *   layout.json          partition table + capacity (fixed when the directory is created)
 *   secure-element.json  identity + rollback index (the simulated secure element, separate from slots)
 *   boot-control.json    active slot; per slot: retry count, successful, unbootable
 *   partitions/NAME.img  partition content (file length = content length; sparse files on disk)
 *   download.bin         the download buffer (RAM on a real device: discarded on every power-on)
 * Every JSON file is replaced with writeJsonAtomic (temp + fsync + rename + dir fsync): a power cut leaves
 * the old or the new version, never a torn one. See docs/virtual-device.md for why not double buffering.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../main/common/atomic-write.js';
import { FlashlineError } from '../main/common/errors.js';
import { encodeImageHeader } from './image-metadata.js';

export const SLOTS = ['a', 'b'] as const;
export type Slot = (typeof SLOTS)[number];

export function otherSlot(slot: Slot): Slot {
  return slot === 'a' ? 'b' : 'a';
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const partitionSchema = z.object({
  name: z.string().regex(/^[a-z0-9_]{1,32}$/),
  size: z.number().int().positive(),
  slotted: z.boolean(),
});
export type PartitionSpec = z.infer<typeof partitionSchema>;

const layoutSchema = z.object({
  format: z.literal(1),
  partitions: z.array(partitionSchema).min(1),
  capacity: z.number().int().positive(),
  /** A phone with dynamic partitions: the physical `super` partition's size (super-partition.ts). */
  dynamicPartitions: z.object({ superSize: z.number().int().positive() }).optional(),
});
export type Layout = z.infer<typeof layoutSchema>;

export const DEFAULT_PARTITIONS: readonly PartitionSpec[] = [
  { name: 'boot', size: 96 * MiB, slotted: true },
  { name: 'vbmeta', size: 64 * 1024, slotted: true },
  { name: 'vendor', size: 512 * MiB, slotted: true },
  { name: 'system', size: 3 * GiB, slotted: true },
  { name: 'misc', size: MiB, slotted: false },
  { name: 'userdata', size: 4 * GiB, slotted: false },
];

/** Physical partitions of a phone with dynamic partitions: system/vendor/product live inside `super`. */
export function dynamicPhysicalPartitions(superSize: number): PartitionSpec[] {
  return [
    { name: 'boot', size: 96 * MiB, slotted: true },
    { name: 'vbmeta', size: 64 * 1024, slotted: true },
    { name: 'misc', size: MiB, slotted: false },
    { name: 'super', size: superSize, slotted: false },
    { name: 'userdata', size: 4 * GiB, slotted: false },
  ];
}

const secureElementSchema = z.object({
  format: z.literal(1),
  product: z.string().min(1).max(64),
  serial: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  hardwareRevision: z.string().min(1).max(32),
  rollbackIndex: z.number().int().nonnegative(),
});
export type SecureElement = z.infer<typeof secureElementSchema>;

const slotStateSchema = z.object({
  retryCount: z.number().int().min(0).max(15),
  successful: z.boolean(),
  unbootable: z.boolean(),
});
export type SlotState = z.infer<typeof slotStateSchema>;

const bootControlSchema = z.object({
  format: z.literal(1),
  active: z.enum(SLOTS),
  slots: z.object({ a: slotStateSchema, b: slotStateSchema }),
});
export type BootControl = z.infer<typeof bootControlSchema>;

export interface CreateStateOptions {
  readonly product: string;
  readonly serial: string;
  readonly hardwareRevision: string;
  readonly capacity?: number;
  readonly partitions?: readonly PartitionSpec[];
  readonly maxRetries: number;
  /** Version written into both factory boot images. */
  readonly factoryVersion: string;
  /** A phone with dynamic partitions (fixed when the directory is created). */
  readonly dynamicPartitions?: { readonly superSize: number };
  /** Writes the factory `super` (metadata + logical partitions' content) at `path`. */
  readonly createSuper?: (path: string, superSize: number) => Promise<void>;
}

export interface LoadedState {
  readonly layout: Layout;
  readonly secureElement: SecureElement;
  readonly bootControl: BootControl;
}

export class StateStore {
  /**
   * `durable: false` (the sink profile, a benchmark device) still replaces files atomically (temp + rename) but
   * skips the fsyncs: four per flashed piece made a sink's `flash` ~12 ms, timing the disk instead of the host.
   */
  constructor(
    readonly dir: string,
    readonly options: { readonly durable?: boolean } = {},
  ) {}

  async #save(path: string, value: unknown): Promise<void> {
    if (this.options.durable !== false) return writeJsonAtomic(path, value);
    const temp = `${path}.tmp`;
    await fs.writeFile(temp, `${JSON.stringify(value, null, 2)}\n`);
    await fs.rename(temp, path);
  }

  get downloadPath(): string {
    return join(this.dir, 'download.bin');
  }

  partitionPath(name: string): string {
    return join(this.dir, 'partitions', `${name}.img`);
  }

  /** Load the directory, creating a factory-fresh device there when it holds no state yet. */
  async openOrCreate(create: CreateStateOptions): Promise<LoadedState> {
    await fs.mkdir(join(this.dir, 'partitions'), { recursive: true });
    // The download buffer is RAM on a real device: whatever was there before power-on is gone.
    await fs.rm(this.downloadPath, { force: true });
    const dp = create.dynamicPartitions;
    const partitions = dp
      ? dynamicPhysicalPartitions(dp.superSize)
      : (create.partitions ?? DEFAULT_PARTITIONS);
    const layout = await this.#readOrInit('layout.json', layoutSchema, async () => ({
      format: 1 as const,
      partitions: [...partitions],
      capacity: create.capacity ?? partitions.reduce((n, p) => n + p.size * (p.slotted ? 2 : 1), 0),
      ...(dp ? { dynamicPartitions: { superSize: dp.superSize } } : {}),
    }));
    const secureElement = await this.#readOrInit('secure-element.json', secureElementSchema, async () => ({
      format: 1 as const,
      product: create.product,
      serial: create.serial,
      hardwareRevision: create.hardwareRevision,
      rollbackIndex: 0,
    }));
    const bootControl = await this.#readOrInit('boot-control.json', bootControlSchema, async () => {
      // Factory image in both slots so the device has two bootable slots from the first power-on.
      const header = encodeImageHeader({ version: create.factoryVersion, rollbackIndex: 0 });
      for (const slot of SLOTS) await fs.writeFile(this.partitionPath(`boot_${slot}`), header);
      const superSize = layout.dynamicPartitions?.superSize;
      if (superSize !== undefined && create.createSuper)
        await create.createSuper(this.partitionPath('super'), superSize);
      return {
        format: 1 as const,
        active: 'a' as const,
        slots: {
          a: { retryCount: create.maxRetries, successful: true, unbootable: false },
          b: { retryCount: create.maxRetries, successful: true, unbootable: false },
        },
      };
    });
    return { layout, secureElement, bootControl };
  }

  async saveBootControl(bc: BootControl): Promise<void> {
    await this.#save(join(this.dir, 'boot-control.json'), bootControlSchema.parse(bc));
  }

  async saveSecureElement(se: SecureElement): Promise<void> {
    await this.#save(join(this.dir, 'secure-element.json'), secureElementSchema.parse(se));
  }

  async #readOrInit<T>(file: string, schema: z.ZodType<T>, init: () => Promise<T>): Promise<T> {
    const path = join(this.dir, file);
    let text: string;
    try {
      text = await fs.readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const value = await init();
      await writeJsonAtomic(path, value);
      return value;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new FlashlineError(
        'bad_state',
        `Virtual device state file ${path} is not valid (${parsed.error.issues[0]?.message ?? 'not JSON'}). ` +
          'Delete the state directory to start a factory-fresh device.',
      );
    }
    return parsed.data;
  }
}
