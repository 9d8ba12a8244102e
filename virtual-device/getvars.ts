/**
 * fastboot variables. Names and value formats follow what AOSP's fastboot client reads in its flash,
 * flashall/update, --slot, set_active and erase flows (sizes as 0x-prefixed hex, yes/no booleans, slots
 * without underscore), plus Flashline's vendor variables (docs/virtual-device.md).
 */
import type { VirtualDevice } from './device.js';
import { hasFlashlineExtensions } from './profiles.js';
import { SINK_VARIABLE } from './sink.js';
import { SLOTS } from './state-store.js';

/** Flashline's vendor variables: only the reference profile has them (a stock bootloader does not). */
const VENDOR_VARIABLES = new Set([
  'battery-level',
  'rollback-index',
  'free-space',
  'capacity',
  'running-version',
  'booted-slot',
  'mode',
]);

/** The fastboot protocol version the device reports (`getvar:version`). */
export const FASTBOOT_PROTOCOL_VERSION = '0.4';

const hex = (n: number) => `0x${n.toString(16)}`;
const yesNo = (b: boolean) => (b ? 'yes' : 'no');

function globalVariables(d: VirtualDevice): [string, string][] {
  const all = referenceGlobals(d);
  if (d.superPartition) all.push(['super-partition-name', 'super']);
  if (d.config.profile === 'sink') all.push([SINK_VARIABLE, 'yes']);
  return hasFlashlineExtensions(d.config.profile) ? all : all.filter(([k]) => !VENDOR_VARIABLES.has(k));
}

function referenceGlobals(d: VirtualDevice): [string, string][] {
  const bc = d.bootControl;
  return [
    ['version', FASTBOOT_PROTOCOL_VERSION],
    ['version-bootloader', d.config.bootloaderVersion],
    ['version-baseband', 'virtual-baseband-1.0'],
    ['product', d.product],
    ['serialno', d.serial],
    ['hw-revision', d.hardwareRevision],
    ['secure', 'yes'],
    ['unlocked', 'yes'],
    ['is-userspace', yesNo(d.mode === 'fastbootd')],
    ['snapshot-update-status', 'none'],
    ['max-download-size', hex(d.config.maxDownloadSize)],
    ['current-slot', bc.active],
    ['slot-count', String(SLOTS.length)],
    ['battery-level', String(d.config.batteryLevel)],
    ['battery-soc-ok', yesNo(d.config.batteryLevel >= 10)],
    ['off-mode-charge', '0'],
    ['rollback-index', String(d.rollbackIndex)],
    ['free-space', String(d.freeSpace)],
    ['capacity', String(d.layout.capacity)],
    ['running-version', d.runningVersion],
    ['booted-slot', d.bootedSlot ?? 'none'],
    ['mode', d.mode],
  ];
}

function partitionVariables(d: VirtualDevice): [string, string][] {
  const out: [string, string][] = [];
  const bc = d.bootControl;
  for (const p of d.layout.partitions) out.push([`has-slot:${p.name}`, yesNo(p.slotted)]);
  for (const s of SLOTS) {
    out.push([`slot-successful:${s}`, yesNo(bc.slots[s].successful)]);
    out.push([`slot-unbootable:${s}`, yesNo(bc.slots[s].unbootable)]);
    out.push([`slot-retry-count:${s}`, String(bc.slots[s].retryCount)]);
  }
  for (const base of logicalBaseNames(d)) out.push([`has-slot:${base}`, 'yes']);
  for (const p of d.layout.partitions) {
    const names = p.slotted ? SLOTS.map((s) => `${p.name}_${s}`) : [p.name];
    for (const n of names) {
      out.push([`partition-size:${n}`, hex(p.size)]);
      out.push([`partition-type:${n}`, 'raw']);
      out.push([`is-logical:${n}`, 'no']);
    }
  }
  const sp = d.superPartition;
  for (const n of sp?.names() ?? []) {
    out.push([`partition-size:${n}`, hex(sp!.sizeOf(n))]);
    out.push([`partition-type:${n}`, 'raw']);
    out.push([`is-logical:${n}`, 'yes']);
  }
  return out;
}

/** Slot-suffixed logical partitions by base name (`system` for `system_a`/`system_b`). */
function logicalBaseNames(d: VirtualDevice): string[] {
  const names = d.superPartition?.names() ?? [];
  return [...new Set(names.flatMap((n) => (/_[ab]$/.test(n) ? [n.slice(0, -2)] : [])))];
}

/** Every variable, in the order `getvar all` lists them. */
export function allVariables(d: VirtualDevice): [string, string][] {
  return [...globalVariables(d), ...partitionVariables(d)];
}

/** One variable; undefined when the device has no such variable. */
export function getVariable(d: VirtualDevice, name: string): string | undefined {
  // Per-partition queries accept the slot-less name for slotted partitions (`partition-size:boot`).
  const m = /^(partition-size|partition-type|is-logical):(.+)$/.exec(name);
  if (m) {
    const logical = d.logicalPartition(m[2]!);
    if (logical) {
      if (m[1] === 'partition-size') return hex(d.superPartition!.sizeOf(logical.name));
      return m[1] === 'partition-type' ? 'raw' : 'yes';
    }
    const t = d.resolvePartition(m[2]!);
    if (!t) return undefined;
    if (m[1] === 'partition-size') return hex(t.spec.size);
    return m[1] === 'partition-type' ? 'raw' : 'no';
  }
  const s = /^slot-(successful|unbootable|retry-count):_?([ab])$/.exec(name);
  if (s) {
    const st = d.bootControl.slots[s[2] as 'a' | 'b'];
    if (s[1] === 'retry-count') return String(st.retryCount);
    return yesNo(s[1] === 'successful' ? st.successful : st.unbootable);
  }
  if (name.startsWith('has-slot:')) {
    const base = name.slice('has-slot:'.length);
    const p = d.layout.partitions.find((x) => x.name === base);
    if (p) return yesNo(p.slotted);
    if (logicalBaseNames(d).includes(base)) return 'yes';
    return d.superPartition?.has(base) ? 'no' : undefined;
  }
  return globalVariables(d).find(([k]) => k === name)?.[1];
}
