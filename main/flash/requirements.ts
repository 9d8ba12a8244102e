/**
 * The package's device requirements (an Android image's android-info.txt `require` lines): each named
 * fastboot variable must report one of the listed values (`*` at the end matches by prefix, as Google's
 * fastboot does). Checked in preflight before anything is written; a mismatch is 27 (wrong product) in a
 * technician's words.
 */
import { JOB_CODES, jobFailure } from './codes.js';
import type { JobContext } from './context.js';
import { getvar } from './device-vars.js';

/** Does `reported` satisfy one of `allowed` (exact, case-insensitive; `x*` = starts with x)? */
export function meetsRequirement(reported: string, allowed: readonly string[]): boolean {
  const value = reported.trim().toLowerCase();
  return allowed.some((a) => {
    const want = a.trim().toLowerCase();
    return want.endsWith('*') ? value.startsWith(want.slice(0, -1)) : value === want;
  });
}

const REMEDY: Readonly<Record<string, string>> = {
  'version-bootloader':
    'Update the bootloader to a version the package lists, or use a package for this bootloader.',
  'version-baseband':
    'Update the baseband (radio) to a version the package lists, or use a package for this radio.',
};

export async function checkDeviceRequirements(ctx: JobContext): Promise<void> {
  const required = ctx.pkg.deviceRequirements ?? {};
  for (const [name, allowed] of Object.entries(required)) {
    if (allowed.length === 0) continue;
    const reported = await getvar(ctx, name);
    const list = allowed.join(', ');
    const remedy = REMEDY[name] ?? 'Use the package made for this device model.';
    if (reported === undefined) {
      throw jobFailure(
        JOB_CODES.wrongProduct,
        `The package requires ${name} to be one of ${list}, but the device does not report ${name}. ${remedy}`,
        { requirement: name, allowed },
      );
    }
    if (!meetsRequirement(reported, allowed)) {
      throw jobFailure(
        JOB_CODES.wrongProduct,
        `The package requires ${name} to be one of ${list}, but this device reports ${reported}. ${remedy}`,
        { requirement: name, allowed, reported },
      );
    }
  }
}
