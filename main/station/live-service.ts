/**
 * The service of a real session (`flashline station`, the desktop app): USB devices and serial ports
 * discovered live into the registry, and the flash engine. The demo and tests compose their own with
 * createService (virtual devices, fakes).
 */
import type { ServiceContext } from '../api/service.js';
import { installFaultPolicy } from '../common/fault-policy.js';
import {
  DeviceRegistry,
  type DeviceSource,
  serialSource,
  startDiscovery,
  usbSource,
} from '../devices/index.js';
import { FlashService } from '../flash/service.js';
import { createService } from './run-station.js';

export interface LiveServiceOptions {
  readonly mode: ServiceContext['mode'];
  /** Watch USB (hotplug). */
  readonly usb: boolean;
  /** List the system's serial ports. */
  readonly serial: boolean;
  readonly log: (line: string) => void;
}

export interface LiveService {
  readonly service: ServiceContext;
  /** Sources that could not start (e.g. no USB access), one line each; already logged. */
  readonly problems: readonly string[];
  stop(): void;
}

export async function startLiveService(options: LiveServiceOptions): Promise<LiveService> {
  // A rejection nobody awaited fails the job it belongs to and is logged; the station keeps serving.
  installFaultPolicy({ log: options.log });
  const devices = new DeviceRegistry();
  const sources: DeviceSource[] = [];
  if (options.usb) sources.push(usbSource());
  if (options.serial) sources.push(serialSource());
  const discovery = await startDiscovery(devices, sources);
  // A missing USB bus or serial listing is worth a line, not a failure: TCP and the other source still work.
  for (const problem of discovery.problems) options.log(`Device discovery: ${problem}`);
  return {
    service: createService({ mode: options.mode, devices, flash: new FlashService({ devices }) }),
    problems: discovery.problems,
    stop: () => discovery.stop(),
  };
}
