/**
 * Where the runner gets the ADB server from: `serveAdb` in virtual-device/adb/serve-adb.ts (the protocol
 * side, behind the AdbDeviceHandler seam). Loaded on first use, as the pty's serialport is: a reference
 * device never needs it.
 */
import type { Duplex } from 'node:stream';
import type { AdbDeviceHandler, AdbServerOptions, AdbSessionEnd } from './adb/device-handler.js';

export type ServeAdb = (
  link: Duplex,
  handler: AdbDeviceHandler,
  options: AdbServerOptions,
) => Promise<AdbSessionEnd>;

// Named through a constant until the ADB server is merged (issue #19, branch adb); then a plain import.
const SERVE_ADB_MODULE = './adb/serve-adb.js';

let loaded: Promise<ServeAdb> | null = null;

export function loadServeAdb(): Promise<ServeAdb> {
  loaded ??= (import(SERVE_ADB_MODULE) as Promise<{ serveAdb: ServeAdb }>).then((m) => m.serveAdb);
  return loaded;
}
