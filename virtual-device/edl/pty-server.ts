/**
 * The EDL device's serial port (a Windows QDLoader COM port, a Linux ttyUSB): a socat pty pair (../pty.ts);
 * each host connection gets a fresh pair at the same path, as a port that re-enumerates.
 */
import type { SerialPort } from 'serialport';
import { enableDirectSerialIo } from '../../main/common/serial-direct-io.js';
import { openPtyPair, type PtyPair } from '../pty.js';
import { DeviceLink } from './device-link.js';

export class EdlPty {
  #pair: PtyPair | null = null;
  #stopped = false;
  hostPath: string | null = null;

  constructor(
    readonly dir: string,
    readonly serve: (link: DeviceLink) => Promise<void>,
  ) {}

  async open(): Promise<void> {
    if (this.#stopped) return;
    const pair = await openPtyPair(this.dir);
    const { SerialPort: Port } = await import('serialport');
    const port = await new Promise<SerialPort>((resolve, reject) => {
      const p = new Port({ path: pair.devicePath, baudRate: 115200, autoOpen: false });
      p.open((err) => {
        if (err) return reject(err);
        enableDirectSerialIo(p.port);
        resolve(p);
      });
    }).catch(async (err: unknown) => {
      await pair.close();
      throw err;
    });
    port.on('error', () => {});
    this.#pair = pair;
    this.hostPath = pair.hostPath;
    void this.serve(new DeviceLink(port)).then(async () => {
      // Let the last reply through, then offer a fresh pair for the next host.
      await pair.close(200);
      if (this.#pair === pair) this.#pair = null;
      await this.open().catch(() => {});
    });
  }

  async close(): Promise<void> {
    this.#stopped = true;
    await this.#pair?.close();
    this.#pair = null;
  }
}
