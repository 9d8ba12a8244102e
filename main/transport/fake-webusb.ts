/**
 * A fake WebUSB backend and device that ship beside the real one (node-serialport's MockBinding idea):
 * it records every OUT transfer, lets a test inject IN packets or script replies, keeps count of transfers in
 * flight, and can be unplugged mid-transfer. No native code.
 *
 * It behaves as `usb` v3 does on a real Linux USB stack (USB_LIB in usb-types.ts): one pending transfer per
 * endpoint and direction (a second rejects with "endpoint not found"), a per-transfer timeout (third argument,
 * default 1000 ms) that cancels the transfer with "Cancelled", plain Error texts when the device goes away
 * ("transferOut error: Disconnected", "open error: device not found (errno 2)"), and a `disconnect` event only
 * when the test sends one (FakeWebUsb.unplug), as udevd would; FakeUsbDevice.pull is a pull without udev.
 */
import {
  USB_LIB,
  type UsbBackend,
  type UsbConfigurationLike,
  type UsbConnectionEventLike,
  type UsbDeviceLike,
  type UsbInResult,
  type UsbOutResult,
} from './usb-types.js';

export interface FakeUsbDeviceOptions {
  readonly vendorId?: number;
  readonly productId?: number;
  readonly serialNumber?: string;
  readonly productName?: string;
  /** wMaxPacketSize of both bulk endpoints (default 512, high speed). */
  readonly packetSize?: number;
  /** Interface class triple (default fastboot ff/42/03). */
  readonly interfaceClass?: readonly [number, number, number];
  /**
   * Pending transfers allowed per endpoint and direction (default 1, as `usb` v3; a browser's WebUSB queues
   * more). One more rejects with "… error: endpoint not found".
   */
  readonly pendingPerEndpoint?: number;
  /** Timeout of a transfer called without the third argument (default 1000 ms, as `usb` v3). */
  readonly defaultTimeoutMs?: number;
  /**
   * Called with each OUT transfer (after recording). Reply by calling `device.injectIn(...)`. May return a
   * promise: the transfer completes when it settles, which lets tests hold transfers in flight.
   */
  readonly onOut?: (bytes: Uint8Array, device: FakeUsbDevice) => void | Promise<void>;
}

/** How a pulled cable shows in `usb` v3's transfer errors (nusb's TransferError names). */
export type FakePullKind = typeof USB_LIB.errors.disconnected | typeof USB_LIB.errors.fault;

const GONE_AFTER_PULL = 'No such device (os error 19)';

interface InWaiter {
  readonly length: number;
  resolve(r: UsbInResult): void;
  reject(e: Error): void;
}

export class FakeUsbDevice implements UsbDeviceLike {
  readonly vendorId: number;
  readonly productId: number;
  readonly serialNumber: string | undefined;
  readonly productName: string | undefined;
  readonly manufacturerName = 'Flashline fake';
  readonly #configurations: readonly UsbConfigurationLike[];
  configuration: UsbConfigurationLike | null = null;
  opened = false;
  claimed = new Set<number>();
  /** Every OUT transfer submitted, in order (copies). A zero-length packet records as an empty array. */
  readonly outTransfers: Uint8Array[] = [];
  /** Lengths requested by each IN transfer. */
  readonly inRequests: number[] = [];
  /** The timeout each transfer was given (explicit or the default), in submission order. */
  readonly outTimeouts: number[] = [];
  readonly inTimeouts: number[] = [];
  /** OUT transfers currently in flight, and the most seen at once. */
  inFlightOut = 0;
  maxInFlightOut = 0;
  /** Transfers the library rejected because the endpoint already had one pending. */
  endpointBusyRejections = 0;
  /** Transfers cancelled by their own timeout. */
  cancelledTransfers = 0;
  unplugged = false;
  readonly packetSize: number;
  readonly #pendingPerEndpoint: number;
  readonly #defaultTimeoutMs: number;
  readonly #onOut: FakeUsbDeviceOptions['onOut'];
  readonly #inQueue: Uint8Array[] = [];
  readonly #inWaiters: InWaiter[] = [];
  readonly #outWaiters = new Set<(e: Error) => void>();

  constructor(opts: FakeUsbDeviceOptions = {}) {
    this.vendorId = opts.vendorId ?? 0x18d1;
    this.productId = opts.productId ?? 0x4ee0;
    this.serialNumber = opts.serialNumber;
    this.productName = opts.productName;
    this.packetSize = opts.packetSize ?? 512;
    this.#pendingPerEndpoint = opts.pendingPerEndpoint ?? USB_LIB.pendingTransfersPerEndpoint;
    this.#defaultTimeoutMs = opts.defaultTimeoutMs ?? USB_LIB.defaultTimeoutMs;
    this.#onOut = opts.onOut;
    const [cls, sub, proto] = opts.interfaceClass ?? [0xff, 0x42, 0x03];
    this.#configurations = [
      {
        configurationValue: 1,
        interfaces: [
          {
            interfaceNumber: 0,
            alternates: [
              {
                alternateSetting: 0,
                interfaceClass: cls,
                interfaceSubclass: sub,
                interfaceProtocol: proto,
                endpoints: [
                  { endpointNumber: 1, direction: 'in', type: 'bulk', packetSize: this.packetSize },
                  { endpointNumber: 1, direction: 'out', type: 'bulk', packetSize: this.packetSize },
                ],
              },
            ],
          },
        ],
      },
    ];
  }

  /** `usb` v3 opens an unopened device to read its descriptors, which fails once it is gone. */
  get configurations(): readonly UsbConfigurationLike[] {
    if (this.unplugged && !this.opened) throw new Error(USB_LIB.errors.openGone);
    return this.#configurations;
  }

  /** In-flight IN transfers (tests check none is left behind). */
  get pendingIn(): number {
    return this.#inWaiters.length;
  }

  #check(op: string): void {
    if (this.unplugged) throw new Error(`${op} error: ${GONE_AFTER_PULL}`);
  }

  async open(): Promise<void> {
    if (this.unplugged) throw new Error(USB_LIB.errors.openGone);
    this.opened = true;
  }
  async close(): Promise<void> {
    this.opened = false;
    this.claimed.clear();
  }
  async selectConfiguration(value: number): Promise<void> {
    this.#check('selectConfiguration');
    this.configuration = this.#configurations.find((c) => c.configurationValue === value) ?? null;
  }
  async claimInterface(n: number): Promise<void> {
    this.#check('claimInterface');
    if (!this.opened) throw new Error('claimInterface error: invalid state');
    this.claimed.add(n);
  }
  async releaseInterface(n: number): Promise<void> {
    this.claimed.delete(n);
  }
  async selectAlternateInterface(): Promise<void> {
    this.#check('selectAlternateInterface');
  }

  async transferOut(endpoint: number, data: Uint8Array, timeoutMs?: number): Promise<UsbOutResult> {
    if (!this.claimed.has(0) || endpoint !== 1) throw new Error('transferOut error: endpoint not found');
    if (this.unplugged) throw new Error(`transferOut error: ${USB_LIB.errors.disconnected}`);
    if (this.inFlightOut >= this.#pendingPerEndpoint) {
      this.endpointBusyRejections++;
      throw new Error(`transferOut error: ${USB_LIB.errors.endpointBusy}`);
    }
    const timeout = timeoutMs ?? this.#defaultTimeoutMs;
    const bytes = data.slice();
    this.outTransfers.push(bytes);
    this.outTimeouts.push(timeout);
    this.inFlightOut++;
    this.maxInFlightOut = Math.max(this.maxInFlightOut, this.inFlightOut);
    try {
      await new Promise<void>((resolve, reject) => {
        const settle = (err?: Error) => {
          if (!this.#outWaiters.delete(settle)) return;
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        };
        this.#outWaiters.add(settle);
        const timer = setTimeout(() => {
          this.cancelledTransfers++;
          settle(new Error(`transferOut error: ${USB_LIB.errors.cancelled}`));
        }, timeout);
        // Complete on a later turn so transfers really are in flight for a while.
        setImmediate(() => {
          Promise.resolve(this.#onOut?.(bytes, this)).then(
            () => settle(),
            (e: unknown) => settle(e instanceof Error ? e : new Error(String(e))),
          );
        });
      });
    } finally {
      this.inFlightOut--;
    }
    return { status: 'ok', bytesWritten: bytes.byteLength };
  }

  async transferIn(endpoint: number, length: number, timeoutMs?: number): Promise<UsbInResult> {
    if (!this.claimed.has(0) || endpoint !== 1) throw new Error('transferIn error: endpoint not found');
    if (this.unplugged) throw new Error(`transferIn error: ${USB_LIB.errors.disconnected}`);
    if (this.#inWaiters.length >= this.#pendingPerEndpoint) {
      this.endpointBusyRejections++;
      throw new Error(`transferIn error: ${USB_LIB.errors.endpointBusy}`);
    }
    const timeout = timeoutMs ?? this.#defaultTimeoutMs;
    this.inRequests.push(length);
    this.inTimeouts.push(timeout);
    return new Promise<UsbInResult>((resolve, reject) => {
      const waiter: InWaiter = {
        length,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        const i = this.#inWaiters.indexOf(waiter);
        if (i < 0) return;
        this.#inWaiters.splice(i, 1);
        this.cancelledTransfers++;
        reject(new Error(`transferIn error: ${USB_LIB.errors.cancelled}`));
      }, timeout);
      this.#inWaiters.push(waiter);
      this.#deliver();
    });
  }

  /** Queue one IN packet (e.g. a fastboot response) for the next transferIn. */
  injectIn(bytes: Uint8Array | string): void {
    this.#inQueue.push(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes.slice());
    this.#deliver();
  }

  #deliver(): void {
    while (this.#inQueue.length > 0 && this.#inWaiters.length > 0) {
      const waiter = this.#inWaiters.shift()!;
      const packet = this.#inQueue.shift()!;
      // A real host controller reports babble when the device sends more than the transfer asked for.
      if (packet.byteLength > waiter.length) waiter.resolve({ status: 'babble' });
      else
        waiter.resolve({
          status: 'ok',
          data: new DataView(packet.buffer, packet.byteOffset, packet.byteLength),
        });
    }
  }

  /**
   * A pulled cable as the library reports it without udev: pending transfers fail with `kind`, later calls
   * fail too, and no `disconnect` event is sent (FakeWebUsb.unplug sends one as well).
   */
  pull(kind: FakePullKind = USB_LIB.errors.disconnected): void {
    this.unplugged = true;
    for (const w of this.#inWaiters.splice(0)) w.reject(new Error(`transferIn error: ${kind}`));
    for (const settle of [...this.#outWaiters]) settle(new Error(`transferOut error: ${kind}`));
  }
}

type Listener = (ev: UsbConnectionEventLike) => void;

/** A fake `WebUSB` object: plug/unplug devices and receive connect/disconnect events. */
export class FakeWebUsb implements UsbBackend {
  readonly devices = new Set<FakeUsbDevice>();
  readonly #listeners = { connect: new Set<Listener>(), disconnect: new Set<Listener>() };

  async getDevices(): Promise<UsbDeviceLike[]> {
    return [...this.devices];
  }
  addEventListener(type: 'connect' | 'disconnect', listener: Listener): void {
    this.#listeners[type].add(listener);
  }
  removeEventListener(type: 'connect' | 'disconnect', listener: Listener): void {
    this.#listeners[type].delete(listener);
  }
  /** Number of listeners currently registered (tests check nothing leaks). */
  listenerCount(type: 'connect' | 'disconnect'): number {
    return this.#listeners[type].size;
  }

  plug(device: FakeUsbDevice): void {
    this.devices.add(device);
    for (const l of [...this.#listeners.connect]) l({ device });
  }

  /** A pulled cable on a system with udevd: the transfers fail, then the `disconnect` event comes. */
  unplug(device: FakeUsbDevice): void {
    this.devices.delete(device);
    device.pull();
    for (const l of [...this.#listeners.disconnect]) l({ device });
  }
}
