/**
 * The one table of job status codes. Decades are fixed by the product:
 * 0 OK, 1x download_failed, 2x verify_failed, 3x install_failed, 4x postcheck_failed.
 * docs/status-codes.md mirrors this table; test/unit/common/status-codes.test.ts keeps them in step.
 * The CLI's exit code is the job's status code, so every code must stay within 0..49.
 */
export const STATUS_DECADES = {
  0: 'ok',
  10: 'download_failed',
  20: 'verify_failed',
  30: 'install_failed',
  40: 'postcheck_failed',
} as const;

export type StatusDecadeName = (typeof STATUS_DECADES)[keyof typeof STATUS_DECADES];

export interface StatusCodeInfo {
  readonly code: number;
  /** Stable machine name, snake_case. */
  readonly name: string;
  /** What happened, in words a technician understands. */
  readonly message: string;
  /** What to do about it. */
  readonly remedy: string;
}

const table = [
  { code: 0, name: 'ok', message: 'Update completed and committed.', remedy: 'Nothing to do.' },
  // 1x download_failed — filled in by the engine (link lost, timeout, insufficient storage, …).
  {
    code: 10,
    name: 'download_failed',
    message: 'The image could not be transferred to the device.',
    remedy: 'Check the cable and connection, then retry.',
  },
  // 2x verify_failed — package verification (main/package) and device-side verification.
  {
    code: 20,
    name: 'verify_failed',
    message: 'The package or image failed verification.',
    remedy: 'Obtain a fresh copy of the package from a trusted source.',
  },
  // 3x install_failed
  {
    code: 30,
    name: 'install_failed',
    message: 'Writing the update to the device failed.',
    remedy: 'Retry; if it persists, the device storage may be faulty.',
  },
  // 4x postcheck_failed
  {
    code: 40,
    name: 'postcheck_failed',
    message: 'The device did not come back healthy on the new software.',
    remedy: 'The device stays on its previous working slot; report the device serial and package version.',
  },
] as const satisfies readonly StatusCodeInfo[];

export const STATUS_CODES: readonly StatusCodeInfo[] = table;

const byCode = new Map<number, StatusCodeInfo>(STATUS_CODES.map((s) => [s.code, s]));
const byName = new Map<string, StatusCodeInfo>(STATUS_CODES.map((s) => [s.name, s]));

export function statusInfo(code: number): StatusCodeInfo {
  const exact = byCode.get(code);
  if (exact) return exact;
  const decade = byCode.get(Math.floor(code / 10) * 10);
  if (decade) return { ...decade, code };
  return {
    code,
    name: 'unknown',
    message: `Unknown status code ${code}.`,
    remedy: 'Report this to Flashline support.',
  };
}

export function statusByName(name: string): StatusCodeInfo {
  const info = byName.get(name);
  if (!info) throw new Error(`status code name not in table: ${name}`);
  return info;
}

export function decadeOf(code: number): StatusDecadeName {
  const d = Math.floor(code / 10) * 10;
  return (STATUS_DECADES as Record<number, StatusDecadeName>)[d] ?? 'postcheck_failed';
}
