/**
 * The pluggable discovery contract. A source reports devices into a sink (the registry); composition roots
 * (CLI, station, desktop, demo mode) choose which sources run: USB hotplug, serial ports, configured TCP
 * endpoints, virtual devices, or their own.
 */
import type { AdbRebootTarget } from '../protocol/adb/contract.js';
import type { DeviceInfo } from './device-info.js';

/** Time allowed to open and identify one device (a constant here so the registry needs no protocol code). */
export const IDENTIFY_TIMEOUT_MS = 5000;

/** Identify one device again (open, identify, close), bounded by `signal`; never rejects for a mute device. */
export type Probe = (signal: AbortSignal) => Promise<DeviceInfo>;

/** What a device no job owns can be asked to do through one endpoint (ADB endpoints: reboot). */
export interface DeviceControl {
  /**
   * Ask the device to reboot (`bootloader` = into fastboot); resolves once it accepted — with a follow-up
   * when the switch goes on over ADB from the mode it reached (a ZTE modem: `adb reboot edl` from ZTE
   * download mode).
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: most controls (ADB reboots) resolve with nothing
  reboot(target: AdbRebootTarget, signal: AbortSignal): Promise<void | RebootFollowUp>;
}

export interface RebootFollowUp {
  /** ADB commands (e.g. `['reboot', 'edl']`) for the ADB device the unit may show up as next. */
  readonly ifAdbAppears: readonly (readonly string[])[];
  /** The unit's model as it said, to recognise that ADB device. */
  readonly model?: string;
}

export interface DeviceSink {
  /**
   * Add or update a device; `probe` lets the registry re-identify it on demand (after a job, refresh),
   * `control` lets it act on the device (reboot) when no job owns it.
   */
  upsert(device: DeviceInfo, probe?: Probe, control?: DeviceControl): void;
  /** The device left (unplugged, source stopped). */
  remove(id: string): void;
  /** What the registry knows now (a source skips polling a device a job owns). */
  get?(id: string): DeviceInfo | undefined;
}

export interface DeviceSource {
  /** Short name used in problem messages (`usb`, `serial`, `tcp`, `virtual`). */
  readonly name: string;
  /**
   * Start reporting into `sink` until `signal` aborts. Resolves once the initial scan is reported (every
   * device at least as `identifying`, bounded in time); keeps reporting hotplug changes afterwards.
   * Rejects only when the source cannot work at all (e.g. no USB access), with a message for the user.
   */
  start(sink: DeviceSink, signal: AbortSignal): Promise<void>;
  /**
   * Resolves once every identification started by the initial scan has finished (succeeded, failed or
   * timed out). Optional; the CLI waits for it before printing.
   */
  settled?(): Promise<void>;
}
