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
  {
    code: 11,
    name: 'link_lost',
    message: 'The connection to the device was lost and it did not come back within the retry limit.',
    remedy:
      'Reconnect the cable (try another port or cable), then run the job again; it resumes where it stopped.',
  },
  {
    code: 12,
    name: 'device_timeout',
    message: 'The device stopped answering within the time limit.',
    remedy: 'Power-cycle the device into fastboot mode and retry.',
  },
  {
    code: 13,
    name: 'insufficient_storage',
    message: 'An image does not fit its partition or the device has not enough free space.',
    remedy:
      'Check that the package matches this device model; free space on the device or use a package for this storage size.',
  },
  {
    code: 14,
    name: 'download_buffer_too_small',
    message: "The device's download buffer (max-download-size) is too small to receive any piece.",
    remedy: 'Update the bootloader or use a device in proper fastboot mode.',
  },
  {
    code: 15,
    name: 'device_not_found',
    message: 'The device could not be reached at the given address.',
    remedy:
      "Check the device id with 'flashline devices' and that the device is in the mode the job needs (fastboot or Android to flash, EDL to rescue).",
  },
  {
    code: 16,
    name: 'battery_low',
    message: 'The device battery is too low to update safely.',
    remedy: 'Charge the device to at least the required level, then retry.',
  },
  {
    code: 17,
    name: 'protocol_error',
    message: 'The device sent replies that are not valid fastboot.',
    remedy: 'Reconnect the device in fastboot mode; if it persists the device firmware or cable is faulty.',
  },
  {
    code: 18,
    name: 'cancelled',
    message:
      'The job was stopped before the update was committed (cancelled, or Flashline itself stopped); the device stays on its working slot.',
    remedy: 'Run the job again when ready; an interrupted job resumes where it stopped.',
  },
  {
    code: 19,
    name: 'station_storage',
    message:
      'Flashline could not write its own records (journal, report, cache or upload): the station disk is full, read-only or unwritable.',
    remedy:
      'Free space on the disk of the Flashline home (or make it writable), then retry; the device keeps its working slot.',
  },
  // 2x verify_failed — package verification (main/package) and device-side verification.
  {
    code: 20,
    name: 'verify_failed',
    message: 'The package or image failed verification.',
    remedy: 'Obtain a fresh copy of the package from a trusted source.',
  },
  {
    code: 21,
    name: 'malformed_package',
    message:
      'The package file is damaged or not a valid Flashline package (bad container, manifest or a hostile entry).',
    remedy: 'Download the package again from a trusted source; if it says a newer format, update Flashline.',
  },
  {
    code: 22,
    name: 'bad_signature',
    message: 'A package signature does not match its manifest: the package was altered after signing.',
    remedy: 'Do not use this file; obtain a fresh copy from the publisher.',
  },
  {
    code: 23,
    name: 'untrusted_signer',
    message: 'The package is not signed by enough trusted keys valid for this product and date.',
    remedy:
      'Install the publisher key in the trust store (flashline trust directory) or use a package signed for this product.',
  },
  {
    code: 24,
    name: 'revoked_key',
    message: 'The package is signed with a key that has been revoked.',
    remedy: 'Obtain a package re-signed by the publisher with a current key.',
  },
  {
    code: 25,
    name: 'package_expired',
    message: 'The package has expired (or is not valid yet): it may be an old, frozen copy.',
    remedy: 'Obtain the current package from the publisher; check the station clock.',
  },
  {
    code: 26,
    name: 'rollback_refused',
    message: 'The package is older (lower rollback index) than what the device or this station already has.',
    remedy: 'Use the current or a newer package; downgrades are not allowed.',
  },
  {
    code: 27,
    name: 'wrong_product',
    message:
      'The package is not meant for this device or this Flashline (product, hardware revision, bootloader or Flashline version).',
    remedy:
      'Use the package made for this device model, or update Flashline / the bootloader as the message says.',
  },
  {
    code: 28,
    name: 'image_mismatch',
    message:
      'An image does not match the signed manifest (wrong size, extra data or wrong hash); nothing unverified was written.',
    remedy: 'Download the package again; if it persists, report the package to its publisher.',
  },
  {
    code: 29,
    name: 'cannot_decrypt',
    message: 'The encrypted package cannot be decrypted with the keys of this station.',
    remedy:
      "Install this station's key (flashline keygen --type station) or ask for a package encrypted to this station.",
  },
  // 3x install_failed
  {
    code: 30,
    name: 'install_failed',
    message: 'Writing the update to the device failed.',
    remedy: 'Retry; if it persists, the device storage may be faulty.',
  },
  {
    code: 31,
    name: 'write_refused',
    message: 'The device refused to write an image to its partition.',
    remedy: 'Retry; if it persists, the device storage may be faulty. The device message is in the report.',
  },
  {
    code: 32,
    name: 'switch_failed',
    message: 'The device refused to switch to the updated slot.',
    remedy: 'Retry; the device stays on its working slot.',
  },
  {
    code: 33,
    name: 'no_inactive_slot',
    message: 'The device has no inactive A/B slot to install into, or it is not the one the job started on.',
    remedy: 'Use a package for this device model; if a job was interrupted, run it again from the start.',
  },
  {
    code: 34,
    name: 'install_step_failed',
    message: 'An install step of the package (erase or shared partition) failed on the device.',
    remedy: 'Retry; the device message is in the report.',
  },
  {
    code: 35,
    name: 'identity_mismatch',
    message: 'The device is not the one this job was started on, or it does not report a serial number.',
    remedy: 'Connect the device the job was started on (its serial is in the report), or start a new job.',
  },
  {
    code: 36,
    name: 'programmer_not_working',
    message:
      'The rescue programmer was loaded but the device storage could not be reached through it (no storage type answered).',
    remedy:
      'Power-cycle the device into EDL and retry; otherwise use the rescue package made for this board.',
  },
  {
    code: 38,
    name: 'unit_claimed_elsewhere',
    message:
      'Another station of the fleet already flashed this unit with this package, or is flashing it now; nothing written.',
    remedy:
      'Put the unit aside (see flashline fleet report --serial SERIAL); reflash it only on the station that holds it.',
  },
  // 4x postcheck_failed
  {
    code: 40,
    name: 'postcheck_failed',
    message: 'The device did not come back healthy on the new software.',
    remedy: 'The device stays on its previous working slot; report the device serial and package version.',
  },
  {
    code: 41,
    name: 'not_back',
    message: 'The device did not come back after rebooting within the time limit.',
    remedy:
      'Check the device screen and cable; it falls back to its previous slot on its own. Report the serial.',
  },
  {
    code: 42,
    name: 'booted_old_slot',
    message: 'The device came back on its previous slot: the new software did not boot.',
    remedy: 'The device stays on its working slot. Report the device serial and package version.',
  },
  {
    code: 43,
    name: 'wrong_version',
    message: 'The device came back but does not run the version the package promises.',
    remedy: 'The device was returned to its working slot. Report the package to its publisher.',
  },
  {
    code: 44,
    name: 'commit_failed',
    message: 'The device refused to mark the new software as good.',
    remedy: 'Retry the job; until committed, the device falls back to its previous slot after a few boots.',
  },
  {
    code: 45,
    name: 'rescued_device_mismatch',
    message:
      'A device came back after the rescue, but it is not the rescued unit (serial) or not a product of the rescue package.',
    remedy: 'Check that only the rescued device answers at the come-back address; report both serials.',
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
