/**
 * The device list as the screen shows it: the `devices.list` snapshot with live `devices.events`
 * applied. Events that arrive while a snapshot is in flight are replayed over it, so none is lost.
 * The list is kept in the stable screen order (device-label.ts#compareDevices).
 */
import type { DeviceEvent, DeviceInfo } from '../../../main/api/types.js';
import { sortDevices } from './device-label.js';

export function applyDeviceEvent(list: readonly DeviceInfo[], event: DeviceEvent): DeviceInfo[] {
  if (event.type === 'removed') return list.filter((d) => d.id !== event.id);
  const index = list.findIndex((d) => d.id === event.device.id);
  if (index === -1) return sortDevices([...list, event.device]);
  const next = [...list];
  next[index] = event.device;
  // A changed address (re-enumeration) may move the device.
  return sortDevices(next);
}

export function applyDeviceEvents(list: readonly DeviceInfo[], events: readonly DeviceEvent[]): DeviceInfo[] {
  return events.reduce<DeviceInfo[]>((acc, e) => applyDeviceEvent(acc, e), sortDevices(list));
}
