/**
 * Canonical JSON for signed documents: object keys sorted by UTF-16 code unit, no whitespace, strings and
 * integers as JSON.stringify writes them. Hand-written because the manifest allows only strings, safe
 * integers, booleans, arrays and objects; for that subset RFC 8785 (JCS) reduces to exactly this, and a
 * dependency would add floating-point rules we forbid anyway.
 */
import { PKG, pkgError } from './codes.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw new TypeError(`canonical JSON allows only safe integers, got ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`canonical JSON cannot encode ${typeof value}`);
}

/** Maximum nesting of arrays/objects found outside strings, scanned before JSON.parse sees the text. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * Parse a small JSON document from the package with hard bounds: byte size, nesting depth, valid UTF-8.
 * `what` names the document in error messages.
 */
export function parseBoundedJson(
  bytes: Uint8Array,
  what: string,
  limits: { maxBytes: number; maxDepth: number },
): unknown {
  if (bytes.byteLength > limits.maxBytes) {
    throw pkgError(
      PKG.malformed,
      `${what} is ${bytes.byteLength} bytes, more than the limit of ${limits.maxBytes}.`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw pkgError(PKG.malformed, `${what} is not valid UTF-8 text.`);
  }
  const depth = jsonDepth(text);
  if (depth > limits.maxDepth) {
    throw pkgError(
      PKG.malformed,
      `${what} is nested ${depth} levels deep, more than the limit of ${limits.maxDepth}.`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw pkgError(
      PKG.malformed,
      `${what} is not valid JSON (${err instanceof Error ? err.message : String(err)}).`,
    );
  }
}
