/**
 * The engine's DeviceConnector/DeviceSession ports over Flashline's fastboot client and transports
 * (main/protocol/fastboot, main/transport). Translates their typed errors into DeviceLinkError kinds, the
 * only distinction the engine's retry policy needs.
 */
import {
  type FastbootClient,
  type FastbootClientOptions,
  FastbootFailError,
  FastbootProtocolError,
  openFastboot,
} from '../../protocol/fastboot/index.js';
import type { OpenLinkOptions } from '../../transport/index.js';
import { AbortedError, DisconnectedError, OpenError, TimeoutError } from '../../transport/index.js';
import {
  type DeviceConnector,
  DeviceLinkError,
  type DeviceSession,
  type LogicalPartitionCommands,
  type OpOptions,
  type RebootMode,
} from '../ports.js';

export function toLinkError(err: unknown): unknown {
  if (err instanceof DeviceLinkError) return err;
  if (err instanceof FastbootFailError)
    return new DeviceLinkError('device-fail', err.message, err.deviceMessage, { cause: err });
  if (err instanceof FastbootProtocolError)
    return new DeviceLinkError('protocol', err.message, undefined, { cause: err });
  if (err instanceof DisconnectedError || err instanceof OpenError) {
    return new DeviceLinkError('disconnected', err.message, undefined, { cause: err });
  }
  if (err instanceof TimeoutError || err instanceof AbortedError) {
    return new DeviceLinkError('timeout', err.message, undefined, { cause: err });
  }
  if (err instanceof RangeError)
    return new DeviceLinkError('protocol', err.message, undefined, { cause: err });
  return err;
}

/** The client's per-call options from the engine's: its signal and the limit it computed for this call. */
function io(o: OpOptions): { signal: AbortSignal; timeoutMs?: number } {
  return { signal: o.signal, ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}) };
}

async function call<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toLinkError(err);
  }
}

const MAX_MESSAGES = 100;

export class FastbootSession implements DeviceSession {
  readonly #client: FastbootClient;
  readonly messages: string[] = [];
  readonly usbId: string | undefined;

  constructor(client: FastbootClient) {
    this.#client = client;
    this.usbId = client.link.usbId;
    client.events.on('message', (m) => {
      if (this.messages.length < MAX_MESSAGES) this.messages.push(`${m.command}: ${m.text}`);
    });
  }

  async getvar(name: string, o: OpOptions): Promise<string | undefined> {
    try {
      return await this.#client.getvar(name, io(o));
    } catch (err) {
      if (err instanceof FastbootFailError) return undefined;
      throw toLinkError(err);
    }
  }

  getvarAll(o: OpOptions): Promise<ReadonlyMap<string, string>> {
    return call(() => this.#client.getvarAll(io(o)));
  }

  async download(
    size: number,
    data: AsyncIterable<Uint8Array>,
    o: OpOptions & { onBytes?: (n: number) => void },
  ): Promise<void> {
    let last = 0;
    const onBytes = o.onBytes;
    await call(() =>
      this.#client.download(size, data, {
        ...io(o),
        ...(onBytes
          ? {
              onProgress: (done: number) => {
                onBytes(done - last);
                last = done;
              },
            }
          : {}),
      }),
    );
  }

  async flash(partition: string, o: OpOptions): Promise<void> {
    await call(() => this.#client.flash(partition, io(o)));
  }

  async erase(partition: string, o: OpOptions): Promise<void> {
    await call(() => this.#client.erase(partition, io(o)));
  }

  async oem(args: readonly string[], o: OpOptions): Promise<string[]> {
    const r = await call(() => this.#client.oem(args.join(' '), io(o)));
    return [...r.info, ...(r.message ? [r.message] : [])];
  }

  async setActive(slot: string, o: OpOptions): Promise<void> {
    await call(() => this.#client.setActive(slot, io(o)));
  }

  async reboot(o: OpOptions): Promise<void> {
    await call(() => this.#client.reboot(undefined, io(o)));
  }

  async rebootTo(mode: RebootMode, o: OpOptions): Promise<void> {
    const target = mode === 'android' ? undefined : mode === 'fastbootd' ? 'fastboot' : 'bootloader';
    await call(() => this.#client.reboot(target, io(o)));
  }

  readonly logical: LogicalPartitionCommands = {
    updateSuper: async (superName, o) => {
      await call(() => this.#client.updateSuper(superName, io(o)));
    },
    createPartition: async (name, size, o) => {
      await call(() => this.#client.createLogicalPartition(name, size, io(o)));
    },
    resizePartition: async (name, size, o) => {
      await call(() => this.#client.resizeLogicalPartition(name, size, io(o)));
    },
    deletePartition: async (name, o) => {
      await call(() => this.#client.deleteLogicalPartition(name, io(o)));
    },
  };

  async close(): Promise<void> {
    await this.#client.close().catch(() => undefined);
  }
}

/** How links are opened; the client defaults apply only to calls that carry no limit of their own. */
export type FastbootConnectorOptions = Omit<OpenLinkOptions, 'signal'> & FastbootClientOptions;

export class FastbootConnector implements DeviceConnector {
  readonly #options: FastbootConnectorOptions;
  constructor(options: FastbootConnectorOptions = {}) {
    this.#options = options;
  }

  async connect(deviceId: string, o: OpOptions): Promise<DeviceSession> {
    const client = await call(() =>
      openFastboot(deviceId, {
        ...this.#options,
        signal: o.signal,
        ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      }),
    );
    return new FastbootSession(client);
  }
}
