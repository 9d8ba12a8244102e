/** What the product knows about one connected device. Produced by main/devices, shown by the UI. */
export const CONNECTIONS = ['usb', 'serial', 'tcp', 'virtual'] as const;
export type Connection = (typeof CONNECTIONS)[number];

export const DEVICE_MODES = ['fastboot', 'edl', 'modem', 'unknown'] as const;
export type DeviceMode = (typeof DEVICE_MODES)[number];

export const DEVICE_STATES = [
  'identifying',
  'idle',
  'busy',
  'flashing',
  'done',
  'failed',
  'offline',
] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

export interface DeviceInfo {
  /** Stable id, e.g. `tcp:127.0.0.1:5554`, `usb:SERIAL`, `serial:/dev/ttyUSB0`. */
  readonly id: string;
  readonly connection: Connection;
  /** Human-readable address (host:port, bus path, tty path). */
  readonly address: string;
  readonly mode: DeviceMode;
  readonly state: DeviceState;
  readonly product?: string;
  readonly serial?: string;
  readonly hardwareRevision?: string;
  readonly currentSlot?: string;
  readonly version?: string;
  readonly rollbackIndex?: number;
  /** Why identification failed or what the device last said, when relevant. */
  readonly note?: string;
}

export type DeviceEvent =
  | { readonly type: 'added'; readonly device: DeviceInfo }
  | { readonly type: 'changed'; readonly device: DeviceInfo }
  | { readonly type: 'removed'; readonly id: string };
