/**
 * Devices reached by opening a link on demand: configured fastboot TCP endpoints, ADB endpoints
 * (`adb:HOST:PORT`), serial paths entered by hand, virtual devices. Each is probed (open + identify + close)
 * on its own, bounded in time. One that
 * cannot be opened is `gone`, one that opens but cannot be identified is `error` (with the reason). With
 * `pollIntervalMs`, every endpoint no job owns is probed again that often: a gone one is noticed when it
 * answers, a ready one when it vanishes (or changes, e.g. after a flash from elsewhere).
 */
import { type PacketLink, parseDeviceId } from '../transport/index.js';
import type { Connection, DeviceInfo } from './device-info.js';
import { describeFailure, IDENTIFY_TIMEOUT_MS, identifyFastboot, probeStart } from './identify.js';
import { type AdbEndpoint, probeAdbEndpoint } from './identify-adb.js';
import type { DeviceControl, DeviceSink, DeviceSource } from './source.js';

export interface FastbootEndpoint {
  readonly kind?: 'fastboot';
  /** Device id (`tcp:HOST:PORT`, `serial:PATH`, or any stable id for in-process devices). */
  readonly id: string;
  readonly connection: Connection;
  readonly address: string;
  /** Open the fastboot link (bounded by the signal). */
  open(signal: AbortSignal): Promise<PacketLink>;
}

export interface EndpointSourceOptions {
  readonly name?: string;
  /** Time allowed for open + identify of one device (default 5 s). */
  readonly identifyTimeoutMs?: number;
  /** Probe every endpoint that no job owns this often (default: probe once). */
  readonly pollIntervalMs?: number;
}

/** Any endpoint a source probes: fastboot (the default) or ADB. */
export type Endpoint = FastbootEndpoint | AdbEndpoint;

/** Open + identify + close one endpoint in its protocol; never rejects (a mute endpoint is `gone`). */
export function probeAnyEndpoint(
  endpoint: Endpoint,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<DeviceInfo> {
  return endpoint.kind === 'adb'
    ? probeAdbEndpoint(endpoint, timeoutMs, signal)
    : probeEndpoint(endpoint, timeoutMs, signal);
}

/** What a job-free device can be asked to do through this endpoint (ADB endpoints: reboot). */
export function endpointControl(
  endpoint: Endpoint,
  timeoutMs: number,
  stopped: AbortSignal,
): DeviceControl | undefined {
  if (endpoint.kind !== 'adb') return undefined;
  return {
    async reboot(target, signal) {
      const both = AbortSignal.any([stopped, signal, AbortSignal.timeout(timeoutMs)]);
      const adb = await endpoint.open({ signal: both, timeoutMs, authWaitMs: 0 });
      try {
        await adb.reboot(target, { signal: both, timeoutMs });
      } finally {
        await adb.close().catch(() => undefined);
      }
    },
  };
}

export async function probeEndpoint(
  endpoint: FastbootEndpoint,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<DeviceInfo> {
  const { base, bound: both } = probeStart(endpoint, timeoutMs, signal);
  let link: PacketLink | undefined;
  try {
    link = await endpoint.open(both);
  } catch (err) {
    return { ...base, mode: 'unknown', state: 'gone', note: describeFailure(err) };
  }
  try {
    const identity = await identifyFastboot(link, { timeoutMs, signal: both });
    return { ...base, mode: 'fastboot', state: 'ready', ...identity };
  } catch (err) {
    return { ...base, mode: 'fastboot', state: 'error', note: describeFailure(err) };
  } finally {
    await link.close();
  }
}

export function endpointSource(
  endpoints: readonly Endpoint[],
  opts: EndpointSourceOptions = {},
): DeviceSource {
  const timeoutMs = opts.identifyTimeoutMs ?? IDENTIFY_TIMEOUT_MS;
  let initial: Promise<unknown> = Promise.resolve();
  return {
    name: opts.name ?? 'endpoints',
    async start(sink: DeviceSink, signal: AbortSignal) {
      const inFlight = new Set<string>();
      const probe = async (e: Endpoint) => {
        if (signal.aborted || inFlight.has(e.id) || sink.get?.(e.id)?.state === 'busy') return;
        inFlight.add(e.id);
        try {
          const info = await probeAnyEndpoint(e, timeoutMs, signal);
          if (!signal.aborted) sink.upsert(info);
        } finally {
          inFlight.delete(e.id);
        }
      };
      for (const e of endpoints) {
        sink.upsert(
          { id: e.id, connection: e.connection, address: e.address, mode: 'unknown', state: 'identifying' },
          (s) => probeAnyEndpoint(e, timeoutMs, AbortSignal.any([signal, s])),
          endpointControl(e, timeoutMs, signal),
        );
      }
      initial = Promise.all(endpoints.map(probe));
      if (opts.pollIntervalMs) {
        const timer = setInterval(() => {
          for (const e of endpoints) void probe(e);
        }, opts.pollIntervalMs);
        timer.unref();
        signal.addEventListener('abort', () => clearInterval(timer), { once: true });
      }
      // One listener for all endpoints: a line of 64 named endpoints added 64 (Node warns past 10).
      signal.addEventListener(
        'abort',
        () => {
          for (const e of endpoints) sink.remove(e.id);
        },
        { once: true },
      );
    },
    async settled() {
      await initial;
    },
  };
}

/** Helper for `tcp:HOST:PORT` ids; the transport layer opens them. */
export function describeId(id: string): { connection: Connection; address: string } {
  const a = parseDeviceId(id);
  switch (a.kind) {
    case 'tcp':
    case 'adb':
    case 'edl':
      return { connection: 'tcp', address: `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}` };
    case 'serial':
      return { connection: 'serial', address: a.path };
    case 'usb':
      return { connection: 'usb', address: a.serial };
    case 'usb-ids':
      return { connection: 'usb', address: id.slice(4) };
  }
}
