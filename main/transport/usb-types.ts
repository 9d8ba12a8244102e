/**
 * The subset of the WebUSB API Flashline uses, as structural types. `usb` v3's `WebUSB` object satisfies
 * them (checked in usb.ts), and so does the fake device in fake-webusb.ts; nothing here loads native code.
 * `USB_LIB` and `classifyUsbLibError` record how `usb` v3 really behaves, so the transport and the fake agree.
 */

export interface UsbEndpointLike {
  /** Endpoint number without the direction bit. */
  readonly endpointNumber: number;
  readonly direction: 'in' | 'out';
  readonly type: 'bulk' | 'interrupt' | 'isochronous';
  /** wMaxPacketSize: 64 full-speed, 512 high-speed, 1024 SuperSpeed bulk. */
  readonly packetSize: number;
}

export interface UsbAlternateLike {
  readonly alternateSetting: number;
  readonly interfaceClass: number;
  readonly interfaceSubclass: number;
  readonly interfaceProtocol: number;
  readonly endpoints: readonly UsbEndpointLike[];
}

export interface UsbInterfaceLike {
  readonly interfaceNumber: number;
  readonly alternates: readonly UsbAlternateLike[];
}

export interface UsbConfigurationLike {
  readonly configurationValue: number;
  readonly interfaces: readonly UsbInterfaceLike[];
}

export interface UsbInResult {
  readonly status: 'ok' | 'stall' | 'babble';
  readonly data?: DataView | undefined;
}

export interface UsbOutResult {
  readonly status: 'ok' | 'stall' | 'babble';
  readonly bytesWritten: number;
}

export interface UsbDeviceLike {
  readonly vendorId: number;
  readonly productId: number;
  readonly serialNumber?: string | null | undefined;
  readonly productName?: string | null | undefined;
  readonly manufacturerName?: string | null | undefined;
  readonly opened: boolean;
  readonly configuration?: UsbConfigurationLike | null | undefined;
  readonly configurations: readonly UsbConfigurationLike[];
  open(): Promise<void>;
  close(): Promise<void>;
  selectConfiguration(configurationValue: number): Promise<void>;
  claimInterface(interfaceNumber: number): Promise<void>;
  releaseInterface(interfaceNumber: number): Promise<void>;
  selectAlternateInterface(interfaceNumber: number, alternateSetting: number): Promise<void>;
  /**
   * `timeoutMs` is `usb` v3's non-standard third argument (default 1000 ms; on expiry the transfer is
   * cancelled and rejects with "transferIn error: Cancelled"). Browsers' WebUSB ignore it.
   */
  transferIn(endpointNumber: number, length: number, timeoutMs?: number): Promise<UsbInResult>;
  transferOut(endpointNumber: number, data: Uint8Array, timeoutMs?: number): Promise<UsbOutResult>;
  clearHalt?(direction: 'in' | 'out', endpointNumber: number): Promise<void>;
}

export interface UsbConnectionEventLike {
  readonly device: UsbDeviceLike;
}

/** What `new WebUSB({ allowAllDevices: true })` from `usb` provides (and what tests fake). */
export interface UsbBackend {
  getDevices(): Promise<UsbDeviceLike[]>;
  addEventListener(type: 'connect' | 'disconnect', listener: (ev: UsbConnectionEventLike) => void): void;
  removeEventListener(type: 'connect' | 'disconnect', listener: (ev: UsbConnectionEventLike) => void): void;
}

/**
 * Facts about `usb` v3 (node-usb-rs on nusb), read from its source (src/webusb_device.rs) and seen on a real
 * Linux USB stack in the qemu VM (docs/usb-testing.md):
 * - each transferIn/transferOut takes the endpoint from nusb for the duration of that one transfer, and nusb
 *   hands an endpoint to one owner at a time: a second pending transfer on the same endpoint and direction
 *   rejects at once with "transferOut error: endpoint not found". There is no queue or stream API; one transfer
 *   is one URB of any length, so the lever for throughput is the transfer size, not the number in flight.
 * - every transfer has a timeout (third argument, default 1000 ms); expiry cancels it: "… error: Cancelled".
 * - failures are plain Errors whose text ends in nusb's TransferError name (Cancelled, Stall, Disconnected,
 *   Fault, InvalidArgument, Unknown) or, for open/claim, the OS error ("open error: device not found (errno 2)").
 *   The `disconnect` event comes from udevd's netlink messages, so without udevd it never comes.
 */
export const USB_LIB = {
  defaultTimeoutMs: 1000,
  pendingTransfersPerEndpoint: 1,
  errors: {
    endpointBusy: 'endpoint not found',
    cancelled: 'Cancelled',
    stall: 'Stall',
    disconnected: 'Disconnected',
    fault: 'Fault',
    openGone: 'open error: device not found (errno 2)',
  },
} as const;

export const USB_FAILURE = {
  /** The device is gone (cable pulled, re-enumerated, unbound). */
  gone: 'gone',
  /** The transfer's own timeout expired and the library cancelled it. */
  cancelled: 'cancelled',
  /** The device stalled the endpoint (a protocol error on its side). */
  stall: 'stall',
  /**
   * A transfer is still pending on the endpoint. Within one link that is a bug on our side; across links it is
   * the uncancellable transfer of a link that was closed after a timeout or abort, which ends within its own
   * bounded native timeout — so the transport waits for it rather than failing the new link.
   */
  busy: 'busy',
  /** Anything else. */
  other: 'other',
} as const;
export type UsbFailure = (typeof USB_FAILURE)[keyof typeof USB_FAILURE];

/** What a `usb` v3 (or libusb-era `usb`, or browser WebUSB) error means, from its text: the only signal it has. */
export function classifyUsbLibError(err: unknown): UsbFailure {
  const text = err instanceof Error ? `${err.name} ${err.message}` : String(err);
  if (
    /\b(Disconnected|Fault)\b|device not found|no such device|errno 19\b|os error 19\b|ENODEV|LIBUSB_ERROR_NO_DEVICE|NetworkError/i.test(
      text,
    )
  )
    return USB_FAILURE.gone;
  if (/\bCancelled\b|LIBUSB_TRANSFER_TIMED_OUT|LIBUSB_ERROR_TIMEOUT/.test(text)) return USB_FAILURE.cancelled;
  if (/\bstall\b|LIBUSB_ERROR_PIPE/i.test(text)) return USB_FAILURE.stall;
  if (text.includes(USB_LIB.errors.endpointBusy)) return USB_FAILURE.busy;
  return USB_FAILURE.other;
}
