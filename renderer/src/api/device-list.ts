/**
 * The device list as the screen shows it: the `devices.list` snapshot with live `devices.events`
 * applied. Events that arrive while a snapshot is in flight are replayed over it, so none is lost.
 */
import type { DeviceEvent, DeviceInfo } from '../../../main/api/types.js';

export function applyDeviceEvent(list: readonly DeviceInfo[], event: DeviceEvent): DeviceInfo[] {
  if (event.type === 'removed') return list.filter((d) => d.id !== event.id);
  const index = list.findIndex((d) => d.id === event.device.id);
  if (index === -1) return [...list, event.device].sort((a, b) => a.id.localeCompare(b.id));
  const next = [...list];
  next[index] = event.device;
  return next;
}

export function applyDeviceEvents(list: readonly DeviceInfo[], events: readonly DeviceEvent[]): DeviceInfo[] {
  return events.reduce<DeviceInfo[]>((acc, e) => applyDeviceEvent(acc, e), [...list]);
}
