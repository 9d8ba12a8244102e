/**
 * Vendor profiles: what Flashline knows about a family of devices beyond what probing shows —
 * `resources/devices/*.json`, validated here at load. A profile says how to read each fact (fastboot
 * variable, Android property, shell command), which vendor commands exist (device-side hash, commit), how to
 * reboot into each mode, where the device comes back after a normal reboot and how its boot is confirmed.
 * A profile is chosen by what the device shows (the variables `getvar all` lists, Android properties, USB
 * ids), never by comparing a product name in the engine. `android-generic` matches everything (the fallback).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { resourcesDir } from '../common/paths.js';

const name = z.string().min(1).max(128);
/** A fastboot variable (`getvar NAME`). */
const getvarFact = z.object({ getvar: name }).strict();
/** An Android system property (`getprop NAME`). */
const propFact = z.object({ prop: name }).strict();
/** A shell command whose output holds the value: the first capture group of `pattern` (default: all of it). */
const shellFact = z
  .object({ shell: z.string().min(1).max(256), pattern: z.string().max(200).optional() })
  .strict();
/** A vendor fastboot command: `oem ARGS…`, with `{partition}` / `{slot}` replaced when run. */
const oemCommand = z.object({ oem: z.array(name).min(1).max(8) }).strict();

const fastbootSection = z
  .object({
    runningVersion: getvarFact.optional(),
    rollbackIndex: getvarFact.optional(),
    battery: getvarFact.optional(),
    freeSpace: getvarFact.optional(),
    /** Answers INFO lines holding the SHA-256 of `{partition}` as written. */
    deviceHash: oemCommand.optional(),
    /** Marks the booted slot successful, run by the host in the postcheck. */
    commit: oemCommand.optional(),
    /** `reboot-bootloader`, `reboot-fastboot`: standard fastboot; `edl` needs a vendor command. */
    rebootEdl: oemCommand.optional(),
  })
  .strict();

const androidSection = z
  .object({
    /** Identity and boot state (AOSP's names by default). */
    serial: propFact.default({ prop: 'ro.serialno' }),
    product: propFact.default({ prop: 'ro.product.device' }),
    build: propFact.default({ prop: 'ro.build.fingerprint' }),
    slotSuffix: propFact.default({ prop: 'ro.boot.slot_suffix' }),
    bootCompleted: propFact.default({ prop: 'sys.boot_completed' }),
    /** Set to `true` on devices with dynamic partitions (logical partitions inside super). */
    dynamicPartitions: propFact.default({ prop: 'ro.boot.dynamic_partitions' }),
    runningVersion: z.union([propFact, shellFact]).optional(),
    battery: z.union([propFact, shellFact]).optional(),
    freeSpace: z.union([propFact, shellFact]).optional(),
    /** `bootloader`, `fastboot` (fastbootd), `edl`: the `reboot:TARGET` services the device accepts. */
    rebootTargets: z.array(z.enum(['bootloader', 'fastboot', 'recovery', 'edl'])).default(['bootloader']),
    /**
     * The A/B commit on Android is the device's own (update_verifier). `confirm` is a command exiting 0 once
     * slot `{slotIndex}` (`{slot}`) is marked successful, polled for at most `waitMs`.
     */
    commitConfirm: z
      .object({ shell: z.string().min(1).max(256), waitMs: z.number().int().min(0).max(600_000) })
      .strict()
      .optional(),
  })
  .strict();

export const deviceProfileSchema = z
  .object({
    $comment: z.string().optional(),
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
    name: z.string().min(1).max(200),
    /** false: written from documentation, not yet tried on a real unit (reports say so). */
    verifiedOnHardware: z.boolean(),
    /** Every listed condition must hold; an empty `match` is the fallback profile. */
    match: z
      .object({
        /** Variables `getvar all` must list (detected, not assumed). */
        fastbootVars: z.array(name).optional(),
        /** Android properties that must be set (any value). */
        androidProps: z.array(name).optional(),
        /** USB `vid:pid` (lower-case hex) of any of the device's interfaces. */
        usbIds: z.array(z.string().regex(/^[0-9a-f]{4}:[0-9a-f]{4}$/)).optional(),
      })
      .strict(),
    /** Where the device is expected after a normal reboot (the postcheck accepts either). */
    afterReboot: z.enum(['fastboot', 'android']),
    fastboot: fastbootSection.prefault({}),
    android: androidSection.prefault({}),
  })
  .strict();
export type DeviceProfile = z.infer<typeof deviceProfileSchema>;

/** The fallback profile's id: it must exist and match any device. */
export const FALLBACK_PROFILE = 'android-generic';

export class DeviceProfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceProfileError';
  }
}

/** Parse one profile file's text; a bad file is an error naming the file and the field. */
export function parseDeviceProfile(file: string, text: string): DeviceProfile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DeviceProfileError(`device profile ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const r = deviceProfileSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const at = issue?.path.length ? issue.path.join('.') : '(top level)';
    throw new DeviceProfileError(
      `device profile ${file} is invalid at ${at}: ${issue?.message ?? 'unknown'}`,
    );
  }
  if (`${r.data.id}.json` !== basename(file)) {
    throw new DeviceProfileError(
      `device profile ${file} is invalid at id: '${r.data.id}' must match the file name`,
    );
  }
  return r.data;
}

let cached: readonly DeviceProfile[] | undefined;

/** Every profile of `dir` (default: the shipped `resources/devices`), validated; the fallback must be there. */
export function loadDeviceProfiles(dir = join(resourcesDir, 'devices')): readonly DeviceProfile[] {
  const shipped = dir === join(resourcesDir, 'devices');
  if (shipped && cached) return cached;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const profiles = files.map((f) => parseDeviceProfile(join(dir, f), readFileSync(join(dir, f), 'utf8')));
  if (!profiles.some((p) => p.id === FALLBACK_PROFILE && Object.keys(p.match).length === 0)) {
    throw new DeviceProfileError(
      `device profiles in ${dir}: ${FALLBACK_PROFILE}.json (with an empty match) is missing`,
    );
  }
  if (shipped) cached = profiles;
  return profiles;
}
