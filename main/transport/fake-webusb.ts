/**
 * A fake WebUSB backend and device that ship beside the real one (node-serialport's MockBinding idea):
 * it records every OUT transfer, lets a test inject IN packets or script replies, keeps count of OUT
 * transfers in flight, and can be unplugged mid-transfer. No native code.
 */
import type {
  UsbBackend,
  UsbConfigurationLike,
  UsbConnectionEventLike,
  UsbDeviceLike,
  UsbInResult,
  UsbOutResult,
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
   * Called with each OUT transfer (after recording). Reply by calling `device.injectIn(...)`. May return a
   * promise: the transfer completes when it settles, which lets tests hold transfers in flight.
   */
  readonly onOut?: (bytes: Uint8Array, device: FakeUsbDevice) => void | Promise<void>;
}

const NO_DEVICE = 'LIBUSB_ERROR_NO_DEVICE: the device was unplugged';

export class FakeUsbDevice implements UsbDeviceLike {
  readonly vendorId: number;
  readonly productId: number;
  readonly serialNumber: string | undefined;
  readonly productName: string | undefined;
  readonly manufacturerName = 'Flashline fake';
  readonly configurations: readonly UsbConfigurationLike[];
  configuration: UsbConfigurationLike | null = null;
  opened = false;
  claimed = new Set<number>();
  /** Every OUT transfer, in order (copies). A zero-length packet records as an empty array. */
  readonly outTransfers: Uint8Array[] = [];
  /** Lengths requested by each IN transfer. */
  readonly inRequests: number[] = [];
  /** OUT transfers currently in flight, and the most seen at once. */
  inFlightOut = 0;
  maxInFlightOut = 0;
  unplugged = false;
  readonly packetSize: number;
  readonly #onOut: FakeUsbDeviceOptions['onOut'];
  readonly #inQueue: Uint8Array[] = [];
  readonly #inWaiters: { length: number; resolve: (r: UsbInResult) => void; reject: (e: Error) => void }[] =
    [];
  readonly #outWaiters = new Set<(e: Error) => void>();

  constructor(opts: FakeUsbDeviceOptions = {}) {
    this.vendorId = opts.vendorId ?? 0x18d1;
    this.productId = opts.productId ?? 0x4ee0;
    this.serialNumber = opts.serialNumber;
    this.productName = opts.productName;
    this.packetSize = opts.packetSize ?? 512;
    this.#onOut = opts.onOut;
    const [cls, sub, proto] = opts.interfaceClass ?? [0xff, 0x42, 0x03];
    this.configurations = [
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

  #check(): void {
    if (this.unplugged) throw new Error(NO_DEVICE);
  }

  async open(): Promise<void> {
    this.#check();
    this.opened = true;
  }
  async close(): Promise<void> {
    this.opened = false;
    this.claimed.clear();
  }
  async selectConfiguration(value: number): Promise<void> {
    this.#check();
    this.configuration = this.configurations.find((c) => c.configurationValue === value) ?? null;
  }
  async claimInterface(n: number): Promise<void> {
    this.#check();
    if (!this.opened) throw new Error('claimInterface on a closed device');
    this.claimed.add(n);
  }
  async releaseInterface(n: number): Promise<void> {
    this.claimed.delete(n);
  }
  async selectAlternateInterface(): Promise<void> {
    this.#check();
  }

  async transferOut(endpoint: number, data: Uint8Array): Promise<UsbOutResult> {
    this.#check();
    if (!this.claimed.has(0) || endpoint !== 1) throw new Error('transferOut on an unclaimed endpoint');
    const bytes = data.slice();
    this.outTransfers.push(bytes);
    this.inFlightOut++;
    this.maxInFlightOut = Math.max(this.maxInFlightOut, this.inFlightOut);
    try {
      await new Promise<void>((resolve, reject) => {
        this.#outWaiters.add(reject);
        // Complete on a later turn so several transfers can really be in flight at once.
        setImmediate(() => {
          Promise.resolve(this.#onOut?.(bytes, this)).then(
            () => {
              this.#outWaiters.delete(reject);
              resolve();
            },
            (e: unknown) => {
              this.#outWaiters.delete(reject);
              reject(e instanceof Error ? e : new Error(String(e)));
            },
          );
        });
      });
    } finally {
      this.inFlightOut--;
    }
    if (this.unplugged) throw new Error(NO_DEVICE);
    return { status: 'ok', bytesWritten: bytes.byteLength };
  }

  async transferIn(endpoint: number, length: number): Promise<UsbInResult> {
    this.#check();
    if (!this.claimed.has(0) || endpoint !== 1) throw new Error('transferIn on an unclaimed endpoint');
    this.inRequests.push(length);
    return new Promise<UsbInResult>((resolve, reject) => {
      this.#inWaiters.push({ length, resolve, reject });
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

  /** Simulate a pulled cable: pending transfers fail, later calls fail. Use FakeWebUsb.unplug to also emit. */
  pull(): void {
    this.unplugged = true;
    for (const w of this.#inWaiters.splice(0)) w.reject(new Error(NO_DEVICE));
    for (const reject of this.#outWaiters) reject(new Error(NO_DEVICE));
    this.#outWaiters.clear();
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

  unplug(device: FakeUsbDevice): void {
    this.devices.delete(device);
    device.pull();
    for (const l of [...this.#listeners.disconnect]) l({ device });
  }
}
