/**
 * The ADB host client's public surface, as the rest of the product uses it (device identification in
 * main/devices, the engine's Android adapter in main/flash/adapters). The implementation (wire codec, auth,
 * streams, shell v2) lives beside this file; callers depend on this contract only.
 *
 * Every call takes a time limit and an AbortSignal and rejects promptly with a typed error (transport's
 * DisconnectedError / TimeoutError / AbortedError, or the errors below), never hangs.
 */

/** Per-call bounds, as everywhere in the product. */
export interface AdbCallOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** What the device said about itself in its CNXN banner (`device::ro.product.name=…;features=…`). */
export interface AdbBanner {
  /** `device` (Android), `recovery`, `bootloader`, `sideload`, `rescue`, or what the device sent. */
  readonly state: string;
  /** The `key=value` pairs of the banner (ro.product.name, ro.product.model, ro.product.device). */
  readonly properties: Readonly<Record<string, string>>;
  /** Features both sides agreed on the device offering (`shell_v2`, `cmd`, …). */
  readonly features: readonly string[];
}

export interface AdbShellResult {
  /** The command's exit status (shell v2); undefined when the device only speaks shell v1. */
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

/** Where `reboot` sends the device: `''` = normal boot into Android. */
export const ADB_REBOOT_TARGETS = ['', 'bootloader', 'fastboot', 'recovery', 'edl', 'sideload'] as const;
export type AdbRebootTarget = (typeof ADB_REBOOT_TARGETS)[number];

/** One authorized ADB connection to one device. */
export interface AdbConnection {
  /** Human-readable link description (`adb 127.0.0.1:5555`, `usb 18d1:4ee7 SERIAL`). */
  readonly description: string;
  readonly banner: AdbBanner;
  /** Run a command; `exitCode` is known with shell v2. Output is bounded (callers ask for short answers). */
  shell(command: string, options?: AdbCallOptions): Promise<AdbShellResult>;
  /** All system properties (`getprop`), parsed from `[name]: [value]` lines. */
  getprops(options?: AdbCallOptions): Promise<Map<string, string>>;
  /** One property; `''` when unset (as `getprop NAME` prints). */
  getprop(name: string, options?: AdbCallOptions): Promise<string>;
  /** `reboot:TARGET`; resolves once the device accepted (the link drops afterwards). */
  reboot(target: AdbRebootTarget, options?: AdbCallOptions): Promise<void>;
  close(): Promise<void>;
}

/**
 * The device did not accept this host's key. `remedy` is the sentence for the technician (unlock the phone,
 * tap "Allow" on "Allow USB debugging?", check the fingerprint shown there).
 */
export class AdbUnauthorizedError extends Error {
  readonly fingerprint: string;
  readonly remedy: string;
  constructor(description: string, fingerprint: string) {
    const remedy = `Unlock the phone and tap "Allow" on "Allow USB debugging?" (this computer's key fingerprint: ${fingerprint}); tick "Always allow from this computer" to skip this next time.`;
    super(`${description}: USB debugging is not authorized for this computer. ${remedy}`);
    this.name = 'AdbUnauthorizedError';
    this.fingerprint = fingerprint;
    this.remedy = remedy;
  }
}

/** A malformed ADB packet or an unexpected reply (bad magic, checksum, oversized payload, wrong command). */
export class AdbProtocolError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AdbProtocolError';
  }
}

/** The device refused a service (CLSE in answer to OPEN, or `FAIL` from a service). */
export class AdbServiceError extends Error {
  readonly service: string;
  constructor(service: string, message: string) {
    super(message);
    this.name = 'AdbServiceError';
    this.service = service;
  }
}
