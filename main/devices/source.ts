/**
 * The pluggable discovery contract. A source reports devices into a sink (the registry); composition roots
 * (CLI, station, desktop, demo mode) choose which sources run: USB hotplug, serial ports, configured TCP
 * endpoints, virtual devices, or their own.
 */
import type { DeviceInfo } from './device-info.js';

export interface DeviceSink {
  /** Add or update a device. */
  upsert(device: DeviceInfo): void;
  /** The device is gone. */
  remove(id: string): void;
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
