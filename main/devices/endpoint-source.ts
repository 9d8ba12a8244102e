/**
 * Devices reached by opening a fastboot link on demand: configured TCP endpoints, serial paths entered by
 * hand, virtual devices. Each is probed (open + identify + close) on its own, bounded in time. One that
 * cannot be opened is `gone`, one that opens but cannot be identified is `error` (with the reason). With
 * `pollIntervalMs`, every endpoint no job owns is probed again that often: a gone one is noticed when it
 * answers, a ready one when it vanishes (or changes, e.g. after a flash from elsewhere).
 */
import { type PacketLink, parseDeviceId } from '../transport/index.js';
import type { Connection, DeviceInfo } from './device-info.js';
import { describeFailure, IDENTIFY_TIMEOUT_MS, identifyFastboot } from './identify.js';
import type { DeviceSink, DeviceSource } from './source.js';

export interface FastbootEndpoint {
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

export async function probeEndpoint(
  endpoint: FastbootEndpoint,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<DeviceInfo> {
  const base = { id: endpoint.id, connection: endpoint.connection, address: endpoint.address };
  const deadline = AbortSignal.timeout(timeoutMs);
  const both = signal ? AbortSignal.any([signal, deadline]) : deadline;
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
  endpoints: readonly FastbootEndpoint[],
  opts: EndpointSourceOptions = {},
): DeviceSource {
  const timeoutMs = opts.identifyTimeoutMs ?? IDENTIFY_TIMEOUT_MS;
  let initial: Promise<unknown> = Promise.resolve();
  return {
    name: opts.name ?? 'endpoints',
    async start(sink: DeviceSink, signal: AbortSignal) {
      const inFlight = new Set<string>();
      const probe = async (e: FastbootEndpoint) => {
        if (signal.aborted || inFlight.has(e.id) || sink.get?.(e.id)?.state === 'busy') return;
        inFlight.add(e.id);
        try {
          const info = await probeEndpoint(e, timeoutMs, signal);
          if (!signal.aborted) sink.upsert(info);
        } finally {
          inFlight.delete(e.id);
        }
      };
      for (const e of endpoints) {
        sink.upsert(
          { id: e.id, connection: e.connection, address: e.address, mode: 'unknown', state: 'identifying' },
          (s) => probeEndpoint(e, timeoutMs, AbortSignal.any([signal, s])),
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
      for (const e of endpoints) signal.addEventListener('abort', () => sink.remove(e.id), { once: true });
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
      return { connection: 'tcp', address: `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}` };
    case 'serial':
      return { connection: 'serial', address: a.path };
    case 'usb':
      return { connection: 'usb', address: a.serial };
    case 'usb-ids':
      return { connection: 'usb', address: id.slice(4) };
  }
}
