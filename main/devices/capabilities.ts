/**
 * Device capabilities: one typed record per device saying what it is (mode, slots) and how each fact is read
 * or each step is done — or that it is not available. Built from probing (the variables `getvar all` lists,
 * the Android properties `getprop` lists, USB ids) plus the matching vendor profile (profiles.ts). The flash
 * engine consults only this record: it never compares a vendor string or names a vendor command itself.
 * Everything here is pure (no I/O), so identification (main/devices) and the engine share it.
 */

import type { AndroidConfirm, DeviceCapabilities, FactSource, VendorCommand } from './capability-types.js';
import type { DeviceMode } from './device-info.js';
import { dynamicPartitionsOf, dynamicUnavailable } from './dynamic-partition-vars.js';
import { type DeviceProfile, FALLBACK_PROFILE, loadDeviceProfiles } from './profiles.js';

/** What probing found; a mode's map is absent when the device was not seen in that mode. */
export interface CapabilityProbe {
  readonly mode: DeviceMode;
  /** `getvar all` (empty when the device does not list its variables). */
  readonly vars?: ReadonlyMap<string, string>;
  /** `getprop` (Android or recovery). */
  readonly props?: ReadonlyMap<string, string>;
  readonly usbIds?: readonly string[];
}

/** The profile whose every condition holds and which has the most conditions; the fallback otherwise. */
export function matchProfile(probe: CapabilityProbe, profiles: readonly DeviceProfile[]): DeviceProfile {
  let best: { p: DeviceProfile; score: number } | undefined;
  for (const p of profiles) {
    const m = p.match;
    let score = 0;
    if (m.fastbootVars) {
      if (!probe.vars || !m.fastbootVars.every((v) => probe.vars?.has(v))) continue;
      score += m.fastbootVars.length;
    }
    if (m.androidProps) {
      if (!probe.props || !m.androidProps.every((v) => probe.props?.get(v))) continue;
      score += m.androidProps.length;
    }
    if (m.usbIds) {
      if (!m.usbIds.some((id) => probe.usbIds?.includes(id))) continue;
      score += 1;
    }
    if (!best || score > best.score) best = { p, score };
  }
  const fallback = profiles.find((p) => p.id === FALLBACK_PROFILE);
  const chosen = best?.p ?? fallback;
  if (!chosen) throw new Error(`no device profile matches and ${FALLBACK_PROFILE} is missing`);
  return chosen;
}

const ANDROID_MODES: readonly DeviceMode[] = ['android', 'recovery'];

/** Detect the capability record of a probed device (profiles default to the shipped ones). */
export function detectCapabilities(
  probe: CapabilityProbe,
  profiles: readonly DeviceProfile[] = loadDeviceProfiles(),
): DeviceCapabilities {
  const profile = matchProfile(probe, profiles);
  const inAndroid = ANDROID_MODES.includes(probe.mode);
  const fb = profile.fastboot;
  const an = profile.android;
  const vars = probe.vars;
  // A variable the profile names is available when `getvar all` lists it — or when the device lists none
  // (then a FAIL at read time says "not available").
  const listed = (f: { getvar: string } | undefined): FactSource | undefined =>
    f && (!vars || vars.size === 0 || vars.has(f.getvar)) ? { via: 'getvar', name: f.getvar } : undefined;
  const androidFact = (
    f: { prop: string } | { shell: string; pattern?: string | undefined } | undefined,
  ): FactSource | undefined => {
    if (!f) return undefined;
    if ('prop' in f)
      return probe.props && !probe.props.get(f.prop) ? undefined : { via: 'prop', name: f.prop };
    return { via: 'shell', command: f.shell, ...(f.pattern !== undefined ? { pattern: f.pattern } : {}) };
  };
  const fastbootFacts = {
    runningVersion: listed(fb.runningVersion),
    rollbackIndex: listed(fb.rollbackIndex),
    battery: listed(fb.battery),
    freeSpace: listed(fb.freeSpace),
  };
  const androidFacts = {
    runningVersion: androidFact(an.runningVersion),
    rollbackIndex: undefined,
    battery: androidFact(an.battery),
    freeSpace: androidFact(an.freeSpace),
  };
  const facts = inAndroid ? androidFacts : fastbootFacts;
  const toBootloader = adbReboots(an.rebootTargets).bootloader;
  const androidConfirm: AndroidConfirm = {
    serial: an.serial.prop,
    product: an.product.prop,
    build: an.build.prop,
    slotSuffix: an.slotSuffix.prop,
    bootCompleted: an.bootCompleted.prop,
    ...(androidFacts.runningVersion ? { version: androidFacts.runningVersion } : {}),
    ...(androidFacts.battery ? { battery: androidFacts.battery } : {}),
    ...(toBootloader ? { toBootloader } : {}),
    ...(an.commitConfirm
      ? { commitConfirm: { command: an.commitConfirm.shell, waitMs: an.commitConfirm.waitMs } }
      : {}),
  };
  const oem = (c: { oem: readonly string[] } | undefined): VendorCommand | undefined =>
    c ? { via: 'oem', args: c.oem } : undefined;
  const commitCommand = oem(fb.commit);
  const dynamic = dynamicPartitionsOf(vars, probe.props?.get(an.dynamicPartitions.prop));
  const reboot = inAndroid
    ? adbReboots(an.rebootTargets)
    : fastbootReboots(probe.mode, fb.rebootEdl?.oem, dynamic !== undefined);
  const deviceHash = inAndroid ? undefined : oem(fb.deviceHash);
  const slots = inAndroid ? androidSlots(probe.props, an.slotSuffix.prop) : fastbootSlots(vars);
  return {
    profile: { id: profile.id, name: profile.name, verifiedOnHardware: profile.verifiedOnHardware },
    mode: probe.mode,
    ...(slots ? { slots } : {}),
    ...definedOnly(facts),
    ...(deviceHash ? { deviceHash } : {}),
    commit: commitCommand ? { by: 'host', command: commitCommand } : { by: 'device' },
    reboot,
    ...(dynamic ? { dynamicPartitions: dynamic } : {}),
    afterReboot: profile.afterReboot,
    fastbootConfirm: {
      ...(fastbootFacts.runningVersion ? { version: fastbootFacts.runningVersion } : {}),
      ...(commitCommand ? { commit: commitCommand } : {}),
    },
    androidConfirm,
    unavailable: unavailableSentences({
      rollbackIndex: facts.rollbackIndex,
      deviceHash: oem(fb.deviceHash),
      version: fastbootFacts.runningVersion ?? androidFacts.runningVersion,
      battery: fastbootFacts.battery ?? (probe.props ? androidFacts.battery : undefined),
      freeSpace: facts.freeSpace ?? fastbootFacts.freeSpace,
      commit: commitCommand ?? androidConfirm.commitConfirm,
    }).concat(dynamicUnavailable(dynamic, reboot)),
  };
}

type Reboots = DeviceCapabilities['reboot'];

/** From Android: the `reboot:TARGET` services the profile says the device accepts. */
function adbReboots(targets: readonly string[]): Reboots {
  const to = (target: 'bootloader' | 'fastboot' | 'edl') =>
    targets.includes(target) ? ({ via: 'adb', target } as const) : undefined;
  return definedOnly({ bootloader: to('bootloader'), fastbootd: to('fastboot'), edl: to('edl') });
}

/**
 * From fastboot: standard reboots, EDL by a vendor command. Userspace fastboot is reachable from itself and,
 * on a device with dynamic partitions, from its bootloader (`reboot-fastboot`, which such bootloaders take).
 */
function fastbootReboots(mode: DeviceMode, edl: readonly string[] | undefined, dynamic: boolean): Reboots {
  return {
    bootloader: { via: 'fastboot', target: 'bootloader' },
    ...(mode === 'fastbootd' || dynamic
      ? { fastbootd: { via: 'fastboot', target: 'fastboot' } as const }
      : {}),
    ...(edl ? { edl: { via: 'oem', args: edl } as const } : {}),
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function fastbootSlots(vars: ReadonlyMap<string, string> | undefined): DeviceCapabilities['slots'] {
  const count = Number(vars?.get('slot-count') ?? Number.NaN);
  const current = vars?.get('current-slot')?.replace(/^_/, '');
  return Number.isInteger(count) && count >= 1 && current ? { count, current } : undefined;
}

function androidSlots(
  props: ReadonlyMap<string, string> | undefined,
  prop: string,
): DeviceCapabilities['slots'] {
  const current = props?.get(prop)?.replace(/^_/, '');
  // A/B devices set the suffix; AOSP supports exactly two slots there.
  return current ? { count: 2, current } : undefined;
}

/** The sentences the report and the screen show for what this device cannot have checked. */
export const UNAVAILABLE = {
  rollbackIndex: "device rollback index not available: checked against this station's record only",
  deviceHash:
    'device-side verification not available: images are checked against the signed manifest while they stream, not read back from the device',
  version: 'running version not available: the postcheck confirms the booted slot only',
  battery: 'battery level not available: not checked before flashing',
  freeSpace: 'device free space not available: only partition sizes are checked',
  commit:
    'commit not confirmable on this device: the device marks the new slot successful itself after it boots; Flashline confirmed the boot, slot and version',
} as const;

function unavailableSentences(has: Record<keyof typeof UNAVAILABLE, unknown>): string[] {
  return (Object.keys(UNAVAILABLE) as (keyof typeof UNAVAILABLE)[])
    .filter((k) => has[k] === undefined)
    .map((k) => UNAVAILABLE[k]);
}
