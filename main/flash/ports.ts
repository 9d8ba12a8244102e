/**
 * What the flash engine needs from the outside world, as small ports. The engine depends only on these;
 * adapters (main/flash/adapters/) wire in the real fastboot client, transports and package reader, and
 * tests pass in-memory fakes. Keeping the surface this small is what lets one engine drive USB, serial,
 * TCP and virtual devices alike.
 */

/** Why a device operation failed, as far as the engine's retry policy cares. */
export const LINK_FAILURE_KINDS = {
  /** The link went away (cable pull, device power loss, socket closed). Retryable after reconnect. */
  disconnected: 'disconnected',
  /** No answer within the operation's time limit. Retryable after reconnect. */
  timeout: 'timeout',
  /** The device answered FAIL; `deviceMessage` holds its own text. Not retryable. */
  deviceFail: 'device-fail',
  /** The device's reply was not valid protocol. Not retryable. */
  protocol: 'protocol',
} as const;
export type LinkFailureKind = (typeof LINK_FAILURE_KINDS)[keyof typeof LINK_FAILURE_KINDS];

/** The one error type device sessions throw; adapters translate their library's errors into it. */
export class DeviceLinkError extends Error {
  readonly kind: LinkFailureKind;
  /** The device's own words (FAIL text), kept apart from ours. */
  readonly deviceMessage: string | undefined;
  constructor(kind: LinkFailureKind, message: string, deviceMessage?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeviceLinkError';
    this.kind = kind;
    this.deviceMessage = deviceMessage;
  }
  get retryable(): boolean {
    return this.kind === 'disconnected' || this.kind === 'timeout';
  }
}

export interface OpOptions {
  /** Aborts the operation; the session must reject promptly (never hang). */
  readonly signal: AbortSignal;
  /**
   * The limit the engine computed for this call (a flash of a big piece, an erase, a device-side hash take
   * far longer than a getvar). Sessions must wait this long for the device's answer, not a default.
   */
  readonly timeoutMs?: number;
}

/** One open fastboot-like session with one device. Every call is bounded by `signal`. */
export interface DeviceSession {
  /** Value of a variable, or undefined when the device does not know it (FAIL). */
  getvar(name: string, options: OpOptions): Promise<string | undefined>;
  /** Send exactly `size` bytes to the device's download buffer; `onBytes` reports each chunk sent. */
  download(
    size: number,
    data: AsyncIterable<Uint8Array>,
    options: OpOptions & { onBytes?: (n: number) => void },
  ): Promise<void>;
  /** Write the downloaded buffer to `partition` (full name, slot suffix included). */
  flash(partition: string, options: OpOptions): Promise<void>;
  erase(partition: string, options: OpOptions): Promise<void>;
  /** Vendor command; resolves with the INFO lines the device sent before OKAY. */
  oem(args: readonly string[], options: OpOptions): Promise<string[]>;
  setActive(slot: string, options: OpOptions): Promise<void>;
  /** Ask the device to reboot; the session is unusable afterwards. */
  reboot(options: OpOptions): Promise<void>;
  close(): Promise<void>;
  /** INFO/TEXT lines the device sent so far (for the report). Optional. */
  readonly messages?: readonly string[];
}

/** Opens sessions by device id (`tcp:HOST:PORT`, `usb:SERIAL`, `serial:PATH`, registry ids). */
export interface DeviceConnector {
  /** Open a session; rejects with DeviceLinkError('disconnected'|'timeout') when unreachable. */
  connect(deviceId: string, options: OpOptions): Promise<DeviceSession>;
}

export interface FlashImage {
  /** Partition base name, without slot suffix (e.g. `boot`). */
  readonly partition: string;
  readonly size: number;
  /** Lower-case hex SHA-256 of the image bytes, from the signed manifest. */
  readonly sha256: string;
  /** Written to the inactive slot (`boot_b`); otherwise a shared partition written during install. */
  readonly slotted: boolean;
  /** Already an Android sparse image: sent as one piece, as it is (the device expands it). */
  readonly sparse?: boolean;
}

/** A package that has passed signature checks; image bytes are hash-checked while they stream. */
export interface FlashPackage {
  readonly id: string;
  readonly version: string;
  /** SHA-256 of the package file, for reports and auto-flash de-duplication. */
  readonly sha256: string;
  readonly rollbackIndex: number;
  readonly products: readonly string[];
  readonly hardwareRevisions?: readonly string[];
  readonly minBootloader?: string;
  /** The version the device must report after the update (postcheck); defaults to `version`. */
  readonly expectedVersion?: string;
  readonly images: readonly FlashImage[];
  /** Partitions to erase during install (shared partitions only, never a slot). */
  readonly erase?: readonly string[];
  /** Verified bytes of one image from its start; the stream errors on a hash or size mismatch. */
  openImage(partition: string, signal: AbortSignal): AsyncIterable<Uint8Array>;
}

/** The station's memory of the highest rollback index it has flashed, per product. */
export interface RollbackRecord {
  highest(product: string): Promise<number | undefined>;
  record(product: string, rollbackIndex: number): Promise<void>;
}
