/**
 * A device-side serial port on a fresh pty pair, opened and closed the same way by every virtual function that
 * speaks over a pty (the fastboot link in pty-link.ts, the modem's AT and DIAG ports): the pair (pty.ts), the
 * port on its device end with direct I/O, and a close that lets the last reply out without waiting forever on
 * a host that stopped reading.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SerialPort } from 'serialport';
import { enableDirectSerialIo } from '../main/common/serial-direct-io.js';
import { openPtyPair, type PtyPair } from './pty.js';

export interface ServedPty {
  readonly pair: PtyPair;
  readonly port: SerialPort;
}

/** How long a closing port waits for its last reply to drain to a host that may not be reading. */
const DRAIN_LIMIT_MS = 500;

/** A fresh pair in `dir` and the device end opened as a serial port (the pair is closed again on failure). */
export async function openServedPty(dir: string): Promise<ServedPty> {
  const pair = await openPtyPair(dir);
  // Loaded on first use, like the host's serial transport: a device served over TCP or USB never needs the
  // native serial binding (and the USB VM's bundle cannot load it).
  const { SerialPort: Port } = await import('serialport');
  const port = await new Promise<SerialPort>((resolve, reject) => {
    const p = new Port({ path: pair.devicePath, baudRate: 115200, autoOpen: false });
    p.open((err) => (err ? reject(err) : resolve(p)));
  }).catch(async (err: unknown) => {
    await pair.close();
    throw err;
  });
  enableDirectSerialIo(port.port);
  // The host hanging up shows as end of stream; errors after that must not crash the process.
  port.on('error', () => {});
  return { pair, port };
}

/** Let the last reply out (bounded), close the port, then the pair (`flushMs`: see PtyPair.close). */
export async function closeServedPty(served: ServedPty | null, flushMs = 0): Promise<void> {
  if (!served) return;
  const { port, pair } = served;
  if (port.isOpen) {
    await Promise.race([new Promise<void>((r) => port.drain(() => r())), sleep(DRAIN_LIMIT_MS)]);
    await new Promise<void>((r) => port.close(() => r()));
  } else port.destroy();
  await pair.close(flushMs);
}
