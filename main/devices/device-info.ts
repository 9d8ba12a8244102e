/** What the product knows about one connected device. Produced by main/devices, shown by the UI. */
export const CONNECTIONS = ['usb', 'serial', 'tcp', 'virtual'] as const;
export type Connection = (typeof CONNECTIONS)[number];

/**
 * What the device is running when seen: Android (ADB), recovery (ADB), the bootloader's fastboot, userspace
 * fastboot (fastbootd, Android 10+ dynamic partitions), Qualcomm EDL, a modem's AT port, or not known yet.
 */
export const DEVICE_MODES = [
  'android',
  'recovery',
  'fastboot',
  'fastbootd',
  'edl',
  'modem',
  'unknown',
] as const;
export type DeviceMode = (typeof DEVICE_MODES)[number];

/**
 * The life cycle of one device: `identifying` (seen, not yet known) → `ready` (identified: in fastboot,
 * fastbootd, Android or recovery, a product and a serial) → `busy` (a job owns it) → `identifying` again after the job (its info is re-read)
 * … → `gone` (a configured endpoint that does not answer; a hotplugged device that leaves is removed).
 * `error` means it answered but could not be identified; `note` says why.
 */
export const DEVICE_STATES = ['identifying', 'ready', 'busy', 'gone', 'error'] as const;
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
  /** Modems (mode `modem`): what AT +CGMI / +CGMM say, and the IMEI when +CGSN gives a valid one. */
  readonly manufacturer?: string;
  readonly model?: string;
  readonly imei?: string;
  /**
   * Devices in EDL (mode `edl`): what the boot ROM says in Sahara command mode — the MSM HW id (16 hex
   * digits; `chip …` from READ_CHIP_ID_V3 on v3 ROMs), the OEM public key hash a programmer must be signed
   * for (hex), and the Sahara version. `serial` is the chip serial number as 8 hex digits.
   */
  readonly msmHwId?: string;
  readonly oemPkHash?: string;
  readonly saharaVersion?: number;
  readonly currentSlot?: string;
  readonly version?: string;
  readonly rollbackIndex?: number;
  /**
   * ADB endpoints only: whether this host's ADB key is accepted. `unauthorized` means the phone shows (or
   * must be unlocked to show) "Allow USB debugging?"; `note` then says what to do.
   */
  readonly authorization?: 'authorized' | 'unauthorized';
  /** Why identification failed or what the device last said, when relevant. */
  readonly note?: string;
  /**
   * Set when another endpoint (this id) leads the same unit (same serial: a phone's ADB and fastboot ports,
   * a USB id and a pty): all are listed, but they are one device — only the leader is offered for jobs, and a
   * job owns every endpoint of the unit. An endpoint that stopped answering keeps the serial it last
   * reported, so it stays attached (the fastboot port of a phone now running Android).
   */
  readonly sameAs?: string;
}

export type DeviceEvent =
  | { readonly type: 'added'; readonly device: DeviceInfo }
  | { readonly type: 'changed'; readonly device: DeviceInfo }
  /** The device just became ready (identified, free): the one event auto-flash and `line` act on. */
  | { readonly type: 'ready'; readonly device: DeviceInfo }
  | { readonly type: 'removed'; readonly id: string };
