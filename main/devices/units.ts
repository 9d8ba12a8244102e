/**
 * One unit, several endpoints: the rules by which the registry links endpoints that report the same serial
 * (a phone's ADB port while it runs Android, its fastboot port in the bootloader, its USB id, a pty). Pure
 * functions over DeviceInfo, so the rules are tested apart from the registry's events.
 */
import type { DeviceInfo, DeviceMode } from './device-info.js';

/** Modes in which the serial was read from the device itself (not a USB descriptor or a VID:PID table). */
const IDENTIFIED_MODES: ReadonlySet<DeviceMode> = new Set(['fastboot', 'fastbootd', 'android', 'recovery']);

/**
 * Whether this endpoint belongs to the unit named by its serial: the device said so when identified, or it
 * said so before it went away (a phone's fastboot port does not listen while the phone runs Android, yet it
 * is the same unit's way in once it reboots into the bootloader).
 */
export function joinsUnit(d: DeviceInfo): d is DeviceInfo & { serial: string } {
  return (
    d.serial !== undefined &&
    (IDENTIFIED_MODES.has(d.mode) || d.state === 'gone' || d.state === 'identifying' || d.state === 'busy')
  );
}

/**
 * An endpoint that stopped answering (or is being identified again, or is owned by a job) keeps the serial
 * (and product) it last reported, so it stays attached to its unit and is named like it. Anything that
 * answered reports its own serial (or none) and is taken as said.
 */
export function keepLastSerial(before: DeviceInfo | undefined, reported: DeviceInfo): DeviceInfo {
  // Busy: a job owns it, whatever a source saw meanwhile (a unit re-enumerating while its job reboots it).
  const silent = reported.state === 'gone' || reported.state === 'identifying' || reported.state === 'busy';
  if (reported.serial || !before?.serial || !silent) return reported;
  const product = reported.product ?? before.product;
  return { ...reported, serial: before.serial, ...(product ? { product } : {}) };
}

/** The endpoint that is the unit: answering (ready) or owned by a job (busy), and not pointing elsewhere. */
export function isPrimary(d: DeviceInfo): boolean {
  return (d.state === 'ready' || d.state === 'busy') && d.sameAs === undefined;
}

export function isReadyPrimary(d: DeviceInfo): boolean {
  return d.state === 'ready' && d.sameAs === undefined;
}

/**
 * Who in one unit points at whom. The endpoint that led stays the unit while it still answers or is busy
 * (no flapping between two answering endpoints); otherwise the first answering one (registry order) leads.
 * With none answering, each endpoint stands for itself.
 * @returns each member's `sameAs` (undefined for the leader and when nobody leads)
 */
export function linkUnit(
  members: readonly DeviceInfo[],
  ledBefore: (id: string) => boolean,
): Map<string, string | undefined> {
  const eligible = members.filter((m) => m.state === 'ready' || m.state === 'busy');
  const leader = eligible.find((m) => ledBefore(m.id)) ?? eligible[0];
  return new Map(members.map((m) => [m.id, leader && m.id !== leader.id ? leader.id : undefined]));
}

/** Devices without their product or serial cannot be told apart from others: never ready. */
export function checkReady(d: DeviceInfo): DeviceInfo {
  if (d.state !== 'ready' || !IDENTIFIED_MODES.has(d.mode) || (d.product && d.serial)) return d;
  const missing = [!d.product && 'product', !d.serial && 'serial number'].filter(Boolean).join(' and ');
  return { ...d, state: 'error', note: `the device did not report its ${missing}` };
}

/** `adb` for ADB endpoints, `fastboot` for the others (tcp:, serial:, virtual ids); `usb:` ids are both. */
export function endpointProtocol(id: string): 'adb' | 'fastboot' | 'both' {
  if (id.startsWith('adb:')) return 'adb';
  return id.startsWith('usb:') ? 'both' : 'fastboot';
}

/** Never answered since it was configured: it may be any unit's way in (no serial to say whose). */
export function isSilent(d: DeviceInfo): boolean {
  return d.state === 'gone' && d.serial === undefined;
}

/** HOST and PORT of a `tcp:` or `adb:` id; undefined for other ids. */
function tcpAddress(id: string): { host: string; port: number } | undefined {
  const m = /^(?:tcp|adb):(\[[^\]]+\]|[^:[\]]+):(\d+)$/.exec(id);
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined;
}

/**
 * The silent endpoints that may still reach a unit: a phone that arrives running Android was never seen in
 * fastboot, yet a job must reboot it there and find it (the engine checks the serial on whichever endpoint
 * answers, so a wrong guess is refused, not flashed). Candidates are silent endpoints of the protocol the
 * unit was not seen on, on the same host (one phone, one network address); the port next to the one seen
 * (fastboot 5554 beside ADB 5555, as phones and the virtual device pair them) is taken alone when present,
 * so two phones on one host do not share each other's ports.
 */
export function candidatesFor(unit: readonly DeviceInfo[], all: Iterable<DeviceInfo>): DeviceInfo[] {
  const seen = new Set(unit.map((u) => endpointProtocol(u.id)));
  if (seen.has('both')) return [];
  const known = unit.flatMap((u) => {
    const a = tcpAddress(u.id);
    return a ? [{ ...a, protocol: endpointProtocol(u.id) }] : [];
  });
  const silent = [...all].filter((d) => {
    const a = tcpAddress(d.id);
    return isSilent(d) && a && !seen.has(endpointProtocol(d.id)) && known.some((k) => k.host === a.host);
  });
  const adjacent = silent.filter((d) => {
    const a = tcpAddress(d.id)!;
    // ADB on fastboot + 1.
    return known.some(
      (k) => k.host === a.host && a.port - k.port === (endpointProtocol(d.id) === 'adb' ? 1 : -1),
    );
  });
  return adjacent.length > 0 ? adjacent : silent;
}
