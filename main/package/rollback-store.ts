/**
 * The station's anti-rollback record: the highest rollback index this station has flashed per product,
 * persisted atomically under flashlineHome(). The engine calls record() after a committed update.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../common/atomic-write.js';
import { FlashlineError } from '../common/errors.js';
import { flashlineHome } from '../common/paths.js';

const fileSchema = z.strictObject({
  version: z.literal(1),
  products: z.record(z.string().max(64), z.int().min(0).max(Number.MAX_SAFE_INTEGER)),
});

export class StationRollbackStore {
  readonly path: string;
  constructor(path: string = join(flashlineHome(), 'rollback.json')) {
    this.path = path;
  }

  private async load(): Promise<Record<string, number>> {
    let text: string;
    try {
      text = await fs.readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new FlashlineError('rollback_store', `Cannot read ${this.path}: ${(err as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const r = fileSchema.safeParse(parsed);
    // Refuse rather than reset: silently forgetting the record would re-open downgrades.
    if (!r.success) {
      throw new FlashlineError(
        'rollback_store',
        `The station rollback record ${this.path} is damaged. Restore it from backup or contact support.`,
      );
    }
    return { ...r.data.products };
  }

  /** Highest rollback index flashed for `product`, or 0 when none was recorded. */
  async highest(product: string): Promise<number> {
    return (await this.load())[product] ?? 0;
  }

  /** Raise the record for `product` to `index` (never lowers it). */
  async record(product: string, index: number): Promise<void> {
    if (!Number.isSafeInteger(index) || index < 0) throw new TypeError(`bad rollback index ${index}`);
    const products = await this.load();
    if ((products[product] ?? 0) >= index && product in products) return;
    products[product] = Math.max(products[product] ?? 0, index);
    await writeJsonAtomic(this.path, { version: 1, products });
  }
}
