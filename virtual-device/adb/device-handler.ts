/**
 * What the virtual device's ADB server (serve-adb.ts, the protocol side) asks of the simulated phone (the
 * stock-android profile, the model side). The server knows packets, auth and streams; the handler knows
 * properties, shell commands and reboots. Keeping the seam here lets each side be tested alone.
 */

/** How the device answers one shell command. */
export interface ShellAnswer {
  readonly stdout: string;
  readonly stderr?: string;
  /** Exit status (sent as shell v2's exit packet; v1 shells just close). */
  readonly exitCode: number;
}

export interface AdbDeviceHandler {
  /** `device` in Android, `recovery` in recovery. */
  state(): 'device' | 'recovery';
  /** Banner properties: ro.product.name, ro.product.model, ro.product.device. */
  bannerProperties(): Record<string, string>;
  /** Run `command` as `sh -c` would (getprop, getprop NAME, bootctl …, echo …); unknown commands exit 127. */
  shell(command: string): ShellAnswer | Promise<ShellAnswer>;
  /**
   * `reboot:TARGET` (`''`, `bootloader`, `fastboot`, `recovery`, `edl`). Called after the stream was
   * acknowledged; the server closes the link, the device goes down and comes back in the target mode.
   * Throw to refuse an unsupported target (the server answers FAIL with the message).
   */
  reboot(target: string): void | Promise<void>;
}

/** Server-side options: which host keys are accepted. */
export interface AdbServerOptions {
  /**
   * Public keys (Android's `adbkey.pub` format, one per line) the device accepts. Undefined = accept any key
   * the host offers, as if the owner tapped "Allow". An empty list refuses every key (unauthorized).
   */
  readonly authorizedKeys?: readonly string[];
  /** The device's serial (also the USB/TCP identity the host shows). */
  readonly serial: string;
  readonly signal?: AbortSignal;
}

/**
 * How one ADB connection ended; the runner acts on `reboot` (drops links, boots into `target`).
 * The server is `serveAdb(link: Duplex, handler, options): Promise<AdbSessionEnd>` in serve-adb.ts, taking
 * the same kind of link `serveFastboot` takes (a TCP socket or an in-process pair end).
 */
export type AdbSessionEnd =
  | { readonly reason: 'reboot'; readonly target: string }
  | { readonly reason: 'closed' }
  | { readonly reason: 'error'; readonly message: string };
