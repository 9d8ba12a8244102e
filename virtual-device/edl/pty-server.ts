/**
 * The EDL device's serial port (a Windows QDLoader COM port, a Linux ttyUSB): a socat pty pair (../pty.ts);
 * each host connection gets a fresh pair at the same path, as a port that re-enumerates.
 */
import type { PtyPair } from '../pty.js';
import { openServedPty } from '../pty-port.js';
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
    const { pair, port } = await openServedPty(this.dir);
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
