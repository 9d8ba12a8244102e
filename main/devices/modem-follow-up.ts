/**
 * The ADB half of a modem's switch (the vendor table's `adb` steps, e.g. ZTE: `AT+ZCDRUN=E`, then
 * `adb reboot edl` from ZTE download mode). After the AT port left, the unit may show up as an ADB device;
 * this waits (bounded) for a **new** ADB device of the same model and sends the steps to it. A unit that goes
 * straight to EDL instead (a device in EDL becomes ready) ends the wait. Nothing is sent to a device that was
 * already there before the switch or reports another model, so a phone on the same station is never
 * rebooted by it; the modem's note says what happened or what is left to do by hand.
 */
import { ADB_REBOOT_TARGETS, type AdbRebootTarget } from '../protocol/adb/contract.js';
import type { DeviceInfo } from './device-info.js';
import type { DeviceRegistry } from './registry.js';
import type { RebootFollowUp } from './source.js';

/** How long the unit gets to show up over ADB (a USB re-enumeration plus adbd starting). */
export const FOLLOW_UP_WAIT_MS = 60_000;
const ADB_COMMAND_MS = 10_000;

const words = (cmds: RebootFollowUp['ifAdbAppears']) => cmds.map((c) => `adb ${c.join(' ')}`).join(', ');

function isRebootTarget(v: string): v is AdbRebootTarget {
  return (ADB_REBOOT_TARGETS as readonly string[]).includes(v);
}

/** Ids of the ADB devices (Android, recovery) ready now: the ones a follow-up must never pick. */
export function readyAdbIds(registry: DeviceRegistry): Set<string> {
  return new Set(registry.list().flatMap((d) => (isAdbReady(d) ? [d.id] : [])));
}

function isAdbReady(d: DeviceInfo): boolean {
  return d.state === 'ready' && (d.mode === 'android' || d.mode === 'recovery');
}

export async function followUpOverAdb(
  registry: DeviceRegistry,
  modemId: string,
  followUp: RebootFollowUp,
  before: ReadonlySet<string>,
  waitMs = FOLLOW_UP_WAIT_MS,
): Promise<void> {
  const note = (text: string) => registry.update(modemId, { note: text });
  const model = followUp.model?.toLowerCase();
  const isTheUnit = (d: DeviceInfo) =>
    isAdbReady(d) &&
    !before.has(d.id) &&
    registry.controlOf(d.id) !== undefined &&
    model !== undefined &&
    (d.product ?? '').toLowerCase().includes(model);
  const edlBefore = new Set(
    registry.list().flatMap((d) => (d.mode === 'edl' && d.state === 'ready' ? [d.id] : [])),
  );
  let unit = registry.list().find(isTheUnit);
  let wentToEdl = false;
  if (!unit) {
    for await (const e of registry.events(AbortSignal.timeout(waitMs))) {
      if (e.type === 'removed') continue;
      if (isTheUnit(e.device)) {
        unit = e.device;
        break;
      }
      if (e.device.mode === 'edl' && e.device.state === 'ready' && !edlBefore.has(e.device.id)) {
        wentToEdl = true;
        break;
      }
    }
  }
  if (wentToEdl) {
    note('switched to download mode; it went to EDL by itself (no ADB step needed)');
    return;
  }
  if (!unit) {
    note(
      `switched to download mode; no ADB device of model ${followUp.model ?? '?'} came within ${Math.round(waitMs / 1000)} s — if it is in the vendor's download mode, run: ${words(followUp.ifAdbAppears)}`,
    );
    return;
  }
  const control = registry.controlOf(unit.id);
  for (const cmd of followUp.ifAdbAppears) {
    const target = cmd[1] ?? '';
    if (cmd[0] !== 'reboot' || cmd.length > 2 || !isRebootTarget(target) || !control) {
      note(`switched to download mode; ${unit.id} is its ADB device — run by hand: adb ${cmd.join(' ')}`);
      return;
    }
    try {
      await control.reboot(target, AbortSignal.timeout(ADB_COMMAND_MS));
    } catch (err) {
      note(
        `switched to download mode; ${unit.id} did not take 'adb ${cmd.join(' ')}' (${err instanceof Error ? err.message : String(err)}) — run it by hand`,
      );
      return;
    }
  }
  registry.update(unit.id, { state: 'identifying', note: `sent ${words(followUp.ifAdbAppears)}` });
  note(`switched to download mode; sent ${words(followUp.ifAdbAppears)} to ${unit.id}`);
}
