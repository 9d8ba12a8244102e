/**
 * The engine's AndroidSession port over Flashline's ADB client (main/protocol/adb, its contract.ts). The
 * opener is injected (`openAdb` from main/protocol/adb/index.ts in the product, a fake in tests), so this
 * adapter depends on the contract only. Translates the client's typed errors into DeviceLinkError kinds;
 * an unauthorized phone keeps its remedy ("tap Allow on 'Allow USB debugging?'") for the report.
 */
import {
  ADB_REBOOT_TARGETS,
  type AdbConnection,
  AdbProtocolError,
  type AdbRebootTarget,
  AdbServiceError,
  AdbUnauthorizedError,
} from '../../protocol/adb/contract.js';
import {
  type AndroidSession,
  type AndroidShellResult,
  type DeviceConnector,
  DeviceLinkError,
  type DeviceSession,
  type OpOptions,
} from '../ports.js';
import { toLinkError } from './fastboot.js';

/** How an ADB connection is opened (the signature of `openAdb`). */
export type OpenAdb = (
  id: string,
  options: { keyDir: string; signal?: AbortSignal; timeoutMs?: number; authWaitMs?: number },
) => Promise<AdbConnection>;

export function adbLinkError(err: unknown): unknown {
  if (err instanceof AdbUnauthorizedError) {
    return new DeviceLinkError('unauthorized', err.message, undefined, { cause: err, remedy: err.remedy });
  }
  if (err instanceof AdbProtocolError)
    return new DeviceLinkError('protocol', err.message, undefined, { cause: err });
  if (err instanceof AdbServiceError)
    return new DeviceLinkError('device-fail', err.message, err.message, { cause: err });
  return toLinkError(err);
}

async function call<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw adbLinkError(err);
  }
}

function io(o: OpOptions): { signal: AbortSignal; timeoutMs?: number } {
  return { signal: o.signal, ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}) };
}

export class AdbAndroidSession implements AndroidSession {
  readonly #conn: AdbConnection;
  constructor(conn: AdbConnection) {
    this.#conn = conn;
  }
  get state(): string {
    return this.#conn.banner.state;
  }
  props(o: OpOptions): Promise<ReadonlyMap<string, string>> {
    return call(() => this.#conn.getprops(io(o)));
  }
  async shell(command: string, o: OpOptions): Promise<AndroidShellResult> {
    const r = await call(() => this.#conn.shell(command, io(o)));
    return { exitCode: r.exitCode, stdout: r.stdout };
  }
  async reboot(target: string, o: OpOptions): Promise<void> {
    const t = ADB_REBOOT_TARGETS.find((x) => x === target);
    if (t === undefined) throw new DeviceLinkError('device-fail', `ADB cannot reboot into '${target}'`);
    await call(() => this.#conn.reboot(t as AdbRebootTarget, io(o)));
  }
  async close(): Promise<void> {
    await this.#conn.close().catch(() => undefined);
  }
}

export interface AdbConnectorOptions {
  readonly open: OpenAdb;
  /** Where this station's ADB key pair lives (`<home>/adb`). */
  readonly keyDir: string;
  /** How long to wait for the phone's owner to tap "Allow" before reporting it unauthorized. */
  readonly authWaitMs?: number;
}

/** Adds ADB (`connectAndroid`) to a fastboot connector: one connector for every endpoint kind. */
export class AndroidCapableConnector implements DeviceConnector {
  readonly #fastboot: DeviceConnector;
  readonly #adb: AdbConnectorOptions;
  constructor(fastboot: DeviceConnector, adb: AdbConnectorOptions) {
    this.#fastboot = fastboot;
    this.#adb = adb;
  }
  connect(deviceId: string, o: OpOptions): Promise<DeviceSession> {
    return this.#fastboot.connect(deviceId, o);
  }
  async connectAndroid(deviceId: string, o: OpOptions): Promise<AndroidSession> {
    const a = this.#adb;
    const conn = await call(() =>
      a.open(deviceId, {
        keyDir: a.keyDir,
        signal: o.signal,
        ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
        ...(a.authWaitMs !== undefined ? { authWaitMs: a.authWaitMs } : {}),
      }),
    );
    return new AdbAndroidSession(conn);
  }
}
