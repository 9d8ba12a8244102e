/**
 * Devices in Qualcomm Emergency Download mode named by hand: `edl:HOST:PORT` (the virtual device over TCP)
 * and serial ports (`serial:PATH`: a QDLoader COM port, a pty). Each is identified in Sahara command mode
 * (serial number, MSM HW id or chip id, OEM PK hash) **once per appearance** and then left alone: the ROM
 * goes back to image transfer after identify and must stay ready for the programmer upload, so Sahara is
 * never polled in a loop.
 *
 * What "appears" means without talking Sahara:
 * - a serial path: the port file exists (checked with a stat, never opened) after having been absent for
 *   at least GONE_AFTER_MS — a port re-offered within that time (a pty pair renewed after a host hung up,
 *   a brief USB re-enumeration) is the same appearance;
 * - `edl:HOST:PORT`: a connection is accepted. While the address refuses connections it is tried again
 *   (no Sahara byte is exchanged with nobody); once identified it is not opened again until a job or a
 *   user's refresh asks.
 */
import { promises as fs } from 'node:fs';
import { FirehoseAlreadyRunningError, SaharaClient, type SaharaIdentity } from '../protocol/sahara/index.js';
import {
  OpenError,
  openStreamLink,
  parseDeviceId,
  type StreamLink,
  TimeoutError,
} from '../transport/index.js';
import type { DeviceInfo } from './device-info.js';
import { describeId } from './endpoint-source.js';
import { describeFailure, probeStart } from './identify.js';
import type { DeviceSink, DeviceSource, Probe } from './source.js';

export interface EdlSourceOptions {
  /** `edl:HOST:PORT` or `serial:PATH` ids (a bare path is taken as `serial:PATH`). */
  readonly ids: readonly string[];
  /** Time allowed to open and identify one device (default 5 s). */
  readonly identifyTimeoutMs?: number;
  /** How often an absent device is looked for (default 1 s). */
  readonly pollIntervalMs?: number;
  /** Opens the byte stream (tests inject one); default: the transports' openStreamLink. */
  readonly open?: (id: string, signal: AbortSignal) => Promise<StreamLink>;
}

/** A port absent this long has left; one back sooner is the same appearance (see the header). */
export const GONE_AFTER_MS = 2000;

/** `serial:PATH` for a bare path; ids are checked by the transport's parser. @throws OpenError */
export function edlId(given: string): string {
  // Another scheme (tcp:, adb:, usb:) is a mistake, not a file name; a drive letter (C:) is a path.
  if (/^[a-z]{2,}:/i.test(given) && !/^(edl|serial):/.test(given))
    throw new OpenError(
      `'${given}' is not an EDL port; use edl:HOST:PORT (virtual device over TCP) or serial:PATH (a COM port or pty)`,
    );
  const id = /^(edl|serial):/.test(given) ? given : `serial:${given}`;
  const kind = parseDeviceId(id).kind;
  if (kind !== 'edl' && kind !== 'serial')
    throw new OpenError(`'${given}' is not an EDL port; use edl:HOST:PORT or serial:PATH`);
  return id;
}

/** The device's own words as list fields: serial as 8 hex digits, as qdl and edl print it. */
export function edlInfo(
  base: Pick<DeviceInfo, 'id' | 'connection' | 'address'>,
  id: SaharaIdentity,
): DeviceInfo {
  const chip = id.chipId ? `chip ${id.chipId.msmId.toString(16).padStart(8, '0')}` : undefined;
  return {
    ...base,
    mode: 'edl',
    state: 'ready',
    ...(id.serialNumber !== undefined ? { serial: id.serialNumber.toString(16).padStart(8, '0') } : {}),
    ...(id.msmHwId ? { msmHwId: id.msmHwId } : chip ? { msmHwId: chip } : {}),
    ...(id.oemPkHash ? { oemPkHash: id.oemPkHash } : {}),
    saharaVersion: id.version,
  };
}

/** Open, identify in Sahara command mode (the ROM returns to image transfer), close. Never rejects. */
export async function probeEdl(
  id: string,
  timeoutMs: number,
  open: NonNullable<EdlSourceOptions['open']>,
  signal?: AbortSignal,
): Promise<DeviceInfo> {
  const { base, bound } = probeStart({ id, ...describeId(id) }, timeoutMs, signal);
  let link: StreamLink;
  try {
    link = await open(id, bound);
  } catch (err) {
    return { ...base, mode: 'edl', state: 'gone', note: describeFailure(err) };
  }
  try {
    return edlInfo(base, await new SaharaClient(link).identify({ signal: bound }));
  } catch (err) {
    if (err instanceof FirehoseAlreadyRunningError)
      return {
        ...base,
        mode: 'edl',
        state: 'error',
        note: 'a Firehose programmer already runs on it (an earlier session loaded it): power-cycle the device into EDL, then refresh',
      };
    const timedOut = err instanceof TimeoutError || (bound.aborted && !signal?.aborted);
    const note = timedOut
      ? `no Sahara answer within ${Math.round(timeoutMs / 1000)} s: not a device in EDL, or another program holds it`
      : describeFailure(err);
    return { ...base, mode: 'edl', state: 'error', note };
  } finally {
    await link.close().catch(() => undefined);
  }
}

async function portExists(path: string): Promise<boolean> {
  try {
    await fs.stat(path);
    return true;
  } catch {
    return false;
  }
}

const defaultOpen = (id: string, signal: AbortSignal) => openStreamLink(id, { signal });

export function edlSource(opts: EdlSourceOptions): DeviceSource {
  const timeoutMs = opts.identifyTimeoutMs ?? 5000;
  const pollMs = opts.pollIntervalMs ?? 1000;
  const open = opts.open ?? defaultOpen;
  const ids = opts.ids.map(edlId);
  let initial: Promise<unknown> = Promise.resolve();
  return {
    name: 'edl',
    async start(sink: DeviceSink, signal: AbortSignal) {
      /**
       * Per id, one record for the source's life (never replaced, so a look that awaited sees what an
       * identify finished meanwhile): identified this appearance; since when a serial port has been missing.
       */
      const seen = new Map<string, { identified: boolean; missingSince?: number }>(
        ids.map((id) => [id, { identified: false }]),
      );
      const inFlight = new Set<string>();
      const identify = async (id: string) => {
        const state = seen.get(id)!;
        if (signal.aborted || state.identified || inFlight.has(id) || sink.get?.(id)?.state === 'busy')
          return;
        inFlight.add(id);
        try {
          const info = await probeEdl(id, timeoutMs, open, signal);
          if (signal.aborted) return;
          // A refused connection is not an appearance: try again on the next tick.
          state.identified = info.state !== 'gone';
          sink.upsert(info);
        } finally {
          inFlight.delete(id);
        }
      };
      const look = async (id: string) => {
        const state = seen.get(id)!;
        const address = parseDeviceId(id);
        if (address.kind !== 'serial') return identify(id);
        const present = await portExists(address.path);
        if (signal.aborted) return;
        if (present) {
          delete state.missingSince;
          return identify(id);
        }
        state.missingSince ??= Date.now();
        // Our own identify's hang-up makes a pty re-offer its pair: that is not the device leaving.
        if (inFlight.has(id) || (state.identified && Date.now() - state.missingSince < GONE_AFTER_MS)) return;
        state.identified = false;
        const current = sink.get?.(id);
        if (current?.state !== 'gone' && current?.state !== 'busy')
          sink.upsert({
            ...current,
            id,
            ...describeId(id),
            mode: 'edl',
            state: 'gone',
            note: `${address.path} is not there (yet)`,
          });
      };
      for (const id of ids) {
        const probe: Probe = (s) => probeEdl(id, timeoutMs, open, AbortSignal.any([signal, s]));
        sink.upsert({ id, ...describeId(id), mode: 'edl', state: 'identifying' }, probe);
        signal.addEventListener('abort', () => sink.remove(id), { once: true });
      }
      initial = Promise.all(ids.map(look));
      const timer = setInterval(() => {
        for (const id of ids) void look(id);
      }, pollMs);
      timer.unref();
      signal.addEventListener('abort', () => clearInterval(timer), { once: true });
    },
    async settled() {
      await initial;
    },
  };
}
