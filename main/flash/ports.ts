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
  /** The device refuses this host (ADB key not accepted); `remedy` says what the technician does. */
  unauthorized: 'unauthorized',
} as const;
export type LinkFailureKind = (typeof LINK_FAILURE_KINDS)[keyof typeof LINK_FAILURE_KINDS];

/** The one error type device sessions throw; adapters translate their library's errors into it. */
export class DeviceLinkError extends Error {
  readonly kind: LinkFailureKind;
  /** The device's own words (FAIL text), kept apart from ours. */
  readonly deviceMessage: string | undefined;
  /** What the technician can do about it, when the link knows better than the status code's table. */
  readonly remedy: string | undefined;
  constructor(
    kind: LinkFailureKind,
    message: string,
    deviceMessage?: string,
    options?: { cause?: unknown; remedy?: string },
  ) {
    super(message, options);
    this.name = 'DeviceLinkError';
    this.kind = kind;
    this.deviceMessage = deviceMessage;
    this.remedy = options?.remedy;
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
  /**
   * Every variable the device lists (`getvar all`), for capability detection; empty when it lists none.
   * Optional: a session without it is probed variable by variable.
   */
  getvarAll?(options: OpOptions): Promise<ReadonlyMap<string, string>>;
  /** Send exactly `size` bytes to the device's download buffer; `onBytes` reports each chunk sent. */
  download(
    size: number,
    data: AsyncIterable<Uint8Array>,
    options: OpOptions & { onBytes?: (n: number) => void },
  ): Promise<void>;
  /** Write the downloaded buffer to `partition` (full name, slot suffix included). */
  flash(partition: string, options: OpOptions): Promise<void>;
  erase(partition: string, options: OpOptions): Promise<void>;
  /** Vendor command (from the device's capabilities); resolves with the INFO lines sent before OKAY. */
  oem(args: readonly string[], options: OpOptions): Promise<string[]>;
  setActive(slot: string, options: OpOptions): Promise<void>;
  /** Ask the device to reboot; the session is unusable afterwards. */
  reboot(options: OpOptions): Promise<void>;
  /**
   * Reboot into `mode` (the bootloader, userspace fastboot, Android); the session is unusable afterwards.
   * Optional: a session without it cannot move a device between bootloader and fastbootd.
   */
  rebootTo?(mode: RebootMode, options: OpOptions): Promise<void>;
  /**
   * Logical partitions inside super (userspace fastboot). Optional: absent on sessions that cannot drive
   * dynamic partitions; the engine then refuses packages with logical images.
   */
  readonly logical?: LogicalPartitionCommands;
  close(): Promise<void>;
  /** INFO/TEXT lines the device sent so far (for the report). Optional. */
  readonly messages?: readonly string[];
  /** `VVVV:PPPP` when the session runs over USB: vendor profiles match by it. */
  readonly usbId?: string;
}

/** The modes a fastboot session can reboot a device into. */
export type RebootMode = 'bootloader' | 'fastbootd' | 'android';

/** The logical-partition commands of userspace fastboot (fastbootd); sizes in bytes. */
export interface LogicalPartitionCommands {
  /** Apply the super layout just downloaded to the super partition `superName` (never wiping it). */
  updateSuper(superName: string, options: OpOptions): Promise<void>;
  createPartition(name: string, size: number, options: OpOptions): Promise<void>;
  resizePartition(name: string, size: number, options: OpOptions): Promise<void>;
  deletePartition(name: string, options: OpOptions): Promise<void>;
}

/** What an Android shell command printed, and its exit status when the device reports one. */
export interface AndroidShellResult {
  readonly exitCode: number | undefined;
  readonly stdout: string;
}

/** One open session with a device running Android (or recovery), over ADB. Every call is bounded. */
export interface AndroidSession {
  /** `device` (Android), `recovery`, … as the device announced itself. */
  readonly state: string;
  /** All system properties. */
  props(options: OpOptions): Promise<ReadonlyMap<string, string>>;
  shell(command: string, options: OpOptions): Promise<AndroidShellResult>;
  /** Reboot into `target` (`''` = Android, `bootloader`, `fastboot`, `recovery`, `edl`); the link drops. */
  reboot(target: string, options: OpOptions): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens sessions by endpoint id (`tcp:HOST:PORT`, `usb:SERIAL`, `serial:PATH`, `adb:HOST:PORT`, registry
 * ids). One unit may have several endpoints; the engine tries them and checks the serial.
 */
export interface DeviceConnector {
  /** Open a fastboot session; rejects with DeviceLinkError('disconnected'|'timeout') when unreachable. */
  connect(deviceId: string, options: OpOptions): Promise<DeviceSession>;
  /**
   * Open an Android (ADB) session; rejects like `connect`, or with kind `unauthorized` (and a remedy) when
   * the device does not accept this host. Absent when the connector has no ADB.
   */
  connectAndroid?(deviceId: string, options: OpOptions): Promise<AndroidSession>;
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
  /**
   * `partition` (default): a physical partition, written from the bootloader. `logical`: a partition inside
   * super, written in fastbootd. `super-layout`: the super layout (`super_empty.img`), sent with update-super.
   */
  readonly kind?: ImageKind;
}

export type ImageKind = 'partition' | 'logical' | 'super-layout';

/** An image's kind (`partition` when the package does not say). */
export function kindOf(img: Pick<FlashImage, 'kind'>): ImageKind {
  return img.kind ?? 'partition';
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
  /**
   * Fastboot variables the device must report one of the listed values for (android-info.txt `require`
   * lines); a value ending in `*` matches by prefix.
   */
  readonly deviceRequirements?: Readonly<Record<string, readonly string[]>>;
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
