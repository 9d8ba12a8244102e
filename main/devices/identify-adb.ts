/**
 * Identify a device over ADB: the CNXN banner says whether it runs Android or recovery; one bounded `getprop`
 * listing, read as the capability record says, tells which unit it is (serial, product, build, slot). A phone
 * that has not accepted this computer's key is not an error of ours: it is reported as `unauthorized` with
 * the remedy, and the next probe (polling, or a refresh) finds it once the technician tapped "Allow".
 */
import { type AdbConnection, AdbUnauthorizedError } from '../protocol/adb/contract.js';
import { normalizeSlot } from '../protocol/fastboot/index.js';
import { detectCapabilities } from './capabilities.js';
import { androidIdentity } from './capability-values.js';
import type { DeviceInfo, DeviceMode } from './device-info.js';
import { describeFailure, type Identity, probeStart } from './identify.js';
import { IDENTIFY_TIMEOUT_MS } from './source.js';

/** One `getprop` listing: a few hundred short lines. */
const PROPS_TIMEOUT_MS = 3000;

/**
 * How long opening an ADB link waits for the phone's "Allow USB debugging?" answer during identification:
 * short, so a list is never held up by a phone nobody is looking at (polling asks again).
 */
export const IDENTIFY_AUTH_WAIT_MS = 1000;

export type AdbIdentity = Identity & { readonly mode: DeviceMode };

/** The banner's state as a device mode: `device` is Android; recovery, sideload and rescue are recovery. */
export function adbMode(state: string): DeviceMode {
  if (state === 'device') return 'android';
  if (state === 'recovery' || state === 'sideload' || state === 'rescue') return 'recovery';
  if (state === 'bootloader') return 'fastboot';
  return 'unknown';
}

export async function identifyAdb(
  adb: AdbConnection,
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<AdbIdentity> {
  const deadline = AbortSignal.timeout(opts.timeoutMs ?? IDENTIFY_TIMEOUT_MS);
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
  const props = await adb.getprops({ signal, timeoutMs: PROPS_TIMEOUT_MS });
  const mode = adbMode(adb.banner.state);
  // Which property says what comes from the capability record, as in the engine's preflight: one way to read
  // an Android device's identity, whatever profile it matches.
  const caps = detectCapabilities({ mode, props });
  const id = androidIdentity(caps.androidConfirm, props);
  // The banner names the device too (ro.product.device), in case the property cannot be read.
  const product = id.product ?? adb.banner.properties['ro.product.device'];
  const versionProp = caps.runningVersion?.via === 'prop' ? caps.runningVersion.name : undefined;
  const version = versionProp ? props.get(versionProp)?.trim() || undefined : undefined;
  const currentSlot = id.slot ? normalizeSlot(id.slot) : undefined;
  return {
    mode,
    ...(id.serial ? { serial: id.serial } : {}),
    ...(product ? { product } : {}),
    ...(version ? { version } : {}),
    ...(currentSlot ? { currentSlot } : {}),
  };
}

/** An ADB endpoint: a device id (`adb:HOST:PORT`) and how to open an authorized connection to it. */
export interface AdbEndpoint {
  readonly kind: 'adb';
  readonly id: string;
  readonly connection: DeviceInfo['connection'];
  readonly address: string;
  /** Open the ADB connection (bounded by the signal; `authWaitMs` = how long to wait for "Allow"). */
  open(options: { signal: AbortSignal; timeoutMs: number; authWaitMs: number }): Promise<AdbConnection>;
}

/** Open + identify + close one ADB endpoint; never rejects (a mute endpoint is `gone`). */
export async function probeAdbEndpoint(
  endpoint: AdbEndpoint,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<DeviceInfo> {
  const { base, bound: both } = probeStart(endpoint, timeoutMs, signal);
  let adb: AdbConnection;
  try {
    adb = await endpoint.open({ signal: both, timeoutMs, authWaitMs: IDENTIFY_AUTH_WAIT_MS });
  } catch (err) {
    if (err instanceof AdbUnauthorizedError) {
      // It answered ADB (so it runs Android or recovery) but will not say more until the key is accepted.
      return { ...base, mode: 'android', state: 'error', authorization: 'unauthorized', note: err.remedy };
    }
    return { ...base, mode: 'unknown', state: 'gone', note: describeFailure(err) };
  }
  try {
    const identity = await identifyAdb(adb, { timeoutMs, signal: both });
    return { ...base, state: 'ready', authorization: 'authorized', ...identity };
  } catch (err) {
    return {
      ...base,
      mode: adbMode(adb.banner.state),
      state: 'error',
      authorization: 'authorized',
      note: describeFailure(err),
    };
  } finally {
    await adb.close().catch(() => undefined);
  }
}
