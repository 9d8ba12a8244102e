/**
 * The modem vendor table: `resources/modems/*.json`, validated here at load. Each entry matches an AT
 * identity (regular expressions over +CGMI / +CGMM) and lists the steps that take such a modem into a mode:
 * an AT command (`answer`: `ok` = must answer OK, `maybe` = may leave without answering), the DIAG EDL
 * switch, or an ADB command run from the mode the previous step reached. Data, not code: a new vendor is a
 * new file. An entry with an empty `match` is a fallback, tried after every specific one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { FlashlineError } from '../common/errors.js';
import { resourcesDir } from '../common/paths.js';

const pattern = z
  .string()
  .min(1)
  .max(200)
  .refine(
    (p) => {
      try {
        new RegExp(p, 'i');
        return true;
      } catch {
        return false;
      }
    },
    { message: 'not a valid regular expression' },
  );

const atStep = z
  .object({
    at: z.string().regex(/^AT[\x21-\x7e]+$/i, 'an AT command line (printable, starting with AT)'),
    answer: z.enum(['ok', 'maybe']),
  })
  .strict();
const diagStep = z.object({ diag: z.literal('edl') }).strict();
const adbStep = z
  .object({ adb: z.array(z.string().min(1).max(64)).min(1).max(4), note: z.string().max(300).optional() })
  .strict();
export const modemStep = z.union([atStep, diagStep, adbStep]);
export type ModemStep = z.infer<typeof modemStep>;

export const modemVendorSchema = z
  .object({
    name: z.string().min(1).max(100),
    match: z.object({ manufacturer: pattern.optional(), model: pattern.optional() }).strict(),
    /** Where the facts come from (kept with the data so a reviewer can check them). */
    source: z.string().min(1).max(400),
    edl: z.array(modemStep).min(1).max(6).optional(),
    fastboot: z.array(modemStep).min(1).max(6).optional(),
  })
  .strict();
export type ModemVendor = z.infer<typeof modemVendorSchema> & { readonly file: string };

/** Load and validate every `*.json` in `dir`; a bad file is refused with its name and the field. */
export function loadModemVendors(dir: string = join(resourcesDir, 'modems')): ModemVendor[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  return files.map((file) => {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    } catch (err) {
      throw new FlashlineError(
        'bad_modem_table',
        `modem table ${file} is not JSON (${err instanceof Error ? err.message : String(err)})`,
      );
    }
    const parsed = modemVendorSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join('.') || '(top level)';
      throw new FlashlineError('bad_modem_table', `modem table ${file}: field ${field}: ${issue.message}`);
    }
    return { ...parsed.data, file };
  });
}

/** What a modem said about itself, as far as matching needs. */
export interface ModemIdentityFacts {
  readonly manufacturer?: string | undefined;
  readonly model?: string | undefined;
}

/** Specific entries first (more patterns = more specific), fallbacks last; only entries with `mode` steps. */
export function matchModemVendor(
  vendors: readonly ModemVendor[],
  id: ModemIdentityFacts,
  mode: 'edl' | 'fastboot',
): ModemVendor | undefined {
  const fits = (p: string | undefined, v: string | undefined) =>
    p === undefined || (v !== undefined && new RegExp(p, 'i').test(v));
  const weight = (v: ModemVendor) => (v.match.manufacturer ? 1 : 0) + (v.match.model ? 1 : 0);
  return [...vendors]
    .filter((v) => v[mode] && fits(v.match.manufacturer, id.manufacturer) && fits(v.match.model, id.model))
    .sort((a, b) => weight(b) - weight(a))[0];
}
