/**
 * `android-info.txt` of an Android factory/update image: the requirements Google's `fastboot update` checks
 * before flashing. Facts of the format (AOSP `system/core/fastboot`, `ParseRequirementLine`):
 *
 *   require NAME=V1|V2|…                 the device's `getvar NAME` must be one of the values
 *   NAME=V1|…                            same (the word `require` is optional)
 *   reject NAME=V1|…                     the device must be none of them
 *   require-for-product:P NAME=V1|…      checked only on a device whose product is P
 *   require partition-exists=P           the device must have partition P (not a variable)
 *
 * `board` means the `product` variable; values are trimmed; a value ending in `*` matches by prefix.
 * This parser keeps every line's meaning and says which lines it did not understand; what becomes of each
 * in a package is decided by {@link requirementsForPackage}.
 */
import { PKG, pkgError } from '../codes.js';

export const ANDROID_INFO_MAX_BYTES = 64 * 1024;
const MAX_VALUES = 32;

export interface AndroidRequirement {
  /** The fastboot variable (`board` already mapped to `product`), or `partition-exists`. */
  readonly name: string;
  readonly values: readonly string[];
  readonly reject: boolean;
  /** Set for `require-for-product:P` lines. */
  readonly forProduct?: string;
  readonly line: number;
}

export interface AndroidInfo {
  readonly requirements: readonly AndroidRequirement[];
  /** Lines that are neither empty, comments nor requirements (1-based line number and text). */
  readonly unknown: readonly { readonly line: number; readonly text: string }[];
}

const bad = (message: string, detail?: unknown) => pkgError(PKG.malformed, message, detail);

/** Parse android-info.txt bytes; refuses binary or oversized content (it is only ever a few lines). */
export function parseAndroidInfo(bytes: Uint8Array, where = 'android-info.txt'): AndroidInfo {
  if (bytes.byteLength > ANDROID_INFO_MAX_BYTES) {
    throw bad(
      `${where} is ${bytes.byteLength} bytes; an android-info.txt is a few lines of text (at most ${ANDROID_INFO_MAX_BYTES}). This is not an Android factory image.`,
      { reason: 'android_info_too_large' },
    );
  }
  const text = Buffer.from(bytes).toString('latin1');
  const binary = [...bytes].some((b) => (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b > 0x7e);
  if (binary) {
    throw bad(`${where} is not plain ASCII text; this is not an Android factory image.`, {
      reason: 'android_info_binary',
    });
  }
  const requirements: AndroidRequirement[] = [];
  const unknown: { line: number; text: string }[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const r = parseLine(line, i + 1);
    if (r) requirements.push(r);
    else unknown.push({ line: i + 1, text: line });
  }
  return { requirements, unknown };
}

function parseLine(line: string, lineNo: number): AndroidRequirement | undefined {
  let forProduct: string | undefined;
  let reject = false;
  let rest: string;
  let m = /^require-for-product:\s*(\S+)\s+(.*)$/.exec(line);
  if (m) {
    forProduct = m[1]!;
    rest = m[2]!;
  } else {
    m = /^(require|reject)\s+(.*)$/.exec(line);
    reject = m?.[1] === 'reject';
    rest = m ? m[2]! : line;
  }
  const kv = /^(\S+?)\s*=\s*(.*)$/.exec(rest);
  if (!kv) return undefined;
  const name = kv[1] === 'board' ? 'product' : kv[1]!;
  // A value listed twice (`board=acme|acme`) is the same requirement once; the manifest's lists are sets.
  const values = [
    ...new Set(
      kv[2]!
        .split('|')
        .map((v) => v.trim())
        .filter((v) => v !== ''),
    ),
  ];
  if (values.length === 0 || values.length > MAX_VALUES) return undefined;
  return { name, values, reject, line: lineNo, ...(forProduct !== undefined ? { forProduct } : {}) };
}

export interface PackageRequirements {
  /** The package's products (from `require board=`/`product=`, or the one chosen with --product). */
  readonly products: readonly string[];
  /** Fastboot variable → accepted values (manifest `deviceRequirements`). */
  readonly deviceRequirements: Record<string, string[]>;
  /** What was not carried into the package, one sentence each (printed for the technician). */
  readonly notes: readonly string[];
}

const PRODUCT_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const VARIABLE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const VALUE = /^[\x20-\x7e]{1,128}$/;

/**
 * Turn android-info requirements into a package's products and device requirements.
 * `chosenProduct` (the --product flag) picks one product of several, or names it when the file has none.
 */
export function requirementsForPackage(info: AndroidInfo, chosenProduct?: string): PackageRequirements {
  const notes: string[] = info.unknown.map(
    (u) =>
      `android-info.txt line ${u.line} is not a requirement Flashline knows and is not enforced: '${u.text}'.`,
  );
  const productLines = info.requirements.filter((r) => r.name === 'product' && !r.reject && !r.forProduct);
  let products: string[];
  if (productLines.length > 0) {
    // Several product lines must all hold: the device's product is in each list.
    let allowed = [...productLines[0]!.values];
    for (const r of productLines.slice(1)) allowed = allowed.filter((v) => r.values.includes(v));
    if (allowed.length === 0) {
      throw bad(
        'android-info.txt requires products that no single device can be (its product lines contradict each other).',
        {
          reason: 'android_info_contradiction',
        },
      );
    }
    if (chosenProduct !== undefined) {
      if (!allowed.some((v) => matches(v, chosenProduct))) {
        throw bad(
          `--product ${chosenProduct} is not one this image is for: android-info.txt requires ${allowed.join(' or ')}.`,
          { reason: 'product_not_in_image' },
        );
      }
      products = [chosenProduct];
    } else {
      const wild = allowed.find((v) => v.endsWith('*'));
      if (wild) {
        throw bad(
          `android-info.txt requires a product matching '${wild}'; name the product this package is for with --product.`,
          { reason: 'product_wildcard' },
        );
      }
      products = allowed;
    }
  } else if (chosenProduct !== undefined) {
    products = [chosenProduct];
    notes.push('android-info.txt names no product (require board=…); the package is for --product only.');
  } else {
    throw bad(
      'android-info.txt names no product (no "require board=…" or "require product=…" line); name the product with --product.',
      { reason: 'android_info_no_product' },
    );
  }
  for (const p of products) {
    if (!PRODUCT_ID.test(p)) {
      throw bad(
        `android-info.txt names product '${p}', which is not a Flashline product id (lowercase letters, digits, . _ -); choose one with --product.`,
        { reason: 'bad_product_id' },
      );
    }
  }
  const deviceRequirements: Record<string, string[]> = { product: [...products] };
  const add = (name: string, values: readonly string[], line: number) => {
    if (!VARIABLE.test(name)) {
      notes.push(`android-info.txt line ${line}: '${name}' is not a fastboot variable name; not enforced.`);
      return;
    }
    const bad_ = values.find((v) => !VALUE.test(v));
    if (bad_ !== undefined) {
      throw bad(
        `android-info.txt line ${line}: value '${bad_}' of ${name} is not printable ASCII of at most 128 characters.`,
        {
          reason: 'android_info_bad_value',
        },
      );
    }
    const prev = deviceRequirements[name];
    const next = prev ? prev.filter((v) => values.includes(v)) : [...values];
    if (next.length === 0) {
      throw bad(
        `android-info.txt line ${line}: the requirements on ${name} contradict each other; no device can meet them.`,
        {
          reason: 'android_info_contradiction',
        },
      );
    }
    deviceRequirements[name] = next;
  };
  for (const r of info.requirements) {
    if (r.name === 'product' && !r.reject && !r.forProduct) continue;
    if (r.reject) {
      notes.push(
        `android-info.txt line ${r.line} rejects ${r.name}=${r.values.join('|')}; Flashline packages only state what a device must be, so this is not enforced.`,
      );
      continue;
    }
    if (r.name === 'partition-exists') {
      notes.push(
        `android-info.txt line ${r.line} requires partition ${r.values.join('|')}; the flash preflight checks every partition the package writes.`,
      );
      continue;
    }
    if (r.forProduct !== undefined) {
      if (products.length === 1 && matches(r.forProduct, products[0]!)) add(r.name, r.values, r.line);
      else if (products.some((p) => matches(r.forProduct!, p))) {
        throw bad(
          `android-info.txt line ${r.line} applies only to product ${r.forProduct}, but the package would be for ${products.join(', ')}; make one package per product with --product.`,
          { reason: 'android_info_per_product' },
        );
      } else
        notes.push(
          `android-info.txt line ${r.line} applies only to product ${r.forProduct}; not this package's.`,
        );
      continue;
    }
    add(r.name, r.values, r.line);
  }
  if (Object.keys(deviceRequirements).length > 32) {
    throw bad(
      'android-info.txt requires more than 32 device variables; a package holds at most 32 requirements.',
      {
        reason: 'android_info_too_many',
      },
    );
  }
  return { products, deviceRequirements, notes };
}

/** fastboot's match: exact, or by prefix when the wanted value ends in `*`. */
export function matches(wanted: string, actual: string): boolean {
  return wanted.endsWith('*') ? actual.startsWith(wanted.slice(0, -1)) : wanted === actual;
}
