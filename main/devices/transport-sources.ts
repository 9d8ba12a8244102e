/**
 * Ready-made sources over the real transports: TCP endpoints, serial ports (listed + entered by hand) and
 * USB hotplug. Native modules load only when the source starts.
 */
import { defaultAdbKeyDir, openAdb } from '../protocol/adb/index.js';
import {
  classifyUsbDevice,
  findAdbInterface,
  findFastbootInterface,
  listSerialPorts,
  loadNodeUsbBackend,
  loadUsbIds,
  lookupUsbId,
  openSerial,
  openTcp,
  openUsb,
  type SerialBackend,
  type UsbBackend,
  type UsbDeviceLike,
  watchUsbDevices,
} from '../transport/index.js';
import type { DeviceInfo } from './device-info.js';
import {
  type Endpoint,
  type EndpointSourceOptions,
  endpointControl,
  endpointSource,
  type FastbootEndpoint,
  probeAnyEndpoint,
} from './endpoint-source.js';
import { IDENTIFY_TIMEOUT_MS } from './identify.js';
import type { DeviceSink, DeviceSource } from './source.js';

export interface TcpEndpointSpec {
  readonly host: string;
  readonly port: number;
}

export function tcpEndpoint(spec: TcpEndpointSpec, connection: 'tcp' | 'virtual' = 'tcp'): FastbootEndpoint {
  const address = `${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}`;
  return {
    id: `tcp:${address}`,
    connection,
    address,
    open: (signal) => openTcp({ host: spec.host, port: spec.port, signal }),
  };
}

/** Configured TCP endpoints (`--tcp HOST:PORT`, station settings). */
export function tcpSource(specs: readonly TcpEndpointSpec[], opts: EndpointSourceOptions = {}): DeviceSource {
  return endpointSource(
    specs.map((s) => tcpEndpoint(s)),
    { name: 'tcp', ...opts },
  );
}

export interface SerialSourceOptions extends EndpointSourceOptions {
  /** Paths entered by hand (ptys are never listed); probed for fastboot-over-serial. */
  readonly paths?: readonly string[];
  /** Also list the system's serial ports (default true). Listed ports are classified, never probed. */
  readonly list?: boolean;
  /** Paths another source owns (modem AT ports): never listed here, so their identity is not overwritten. */
  readonly skip?: readonly string[];
  readonly backend?: SerialBackend;
}

/**
 * Serial ports: listed ones are shown with their mode from the VID:PID table (probing an unknown modem with
 * fastboot bytes could upset it); paths given by hand are probed with the fastboot handshake.
 */
export function serialSource(opts: SerialSourceOptions = {}): DeviceSource {
  const manual = (opts.paths ?? []).map(
    (path): FastbootEndpoint => ({
      id: `serial:${path}`,
      connection: 'serial',
      address: path,
      open: (signal) =>
        openSerial({ path, signal, timeoutMs: 2000, ...(opts.backend ? { backend: opts.backend } : {}) }),
    }),
  );
  const probes = endpointSource(manual, { name: 'serial', ...opts });
  return {
    name: 'serial',
    async start(sink, signal) {
      await probes.start(sink, signal);
      if (opts.list === false) return;
      const listing = await listSerialPorts(opts.backend);
      const table = loadUsbIds();
      for (const p of listing.ports) {
        const id = `serial:${p.path}`;
        if (manual.some((m) => m.id === id) || opts.skip?.includes(p.path)) continue;
        const vid = p.vendorId ? Number.parseInt(p.vendorId, 16) : Number.NaN;
        const pid = p.productId ? Number.parseInt(p.productId, 16) : Number.NaN;
        const known = lookupUsbId(table, vid, pid);
        sink.upsert({
          id,
          connection: 'serial',
          address: p.path,
          mode: known?.mode ?? 'unknown',
          // Classified from the VID:PID table, never probed: that is all there is to learn about it.
          state: 'ready',
          ...(p.serialNumber ? { serial: p.serialNumber } : {}),
          ...(known ? { product: known.name } : p.manufacturer ? { product: p.manufacturer } : {}),
        });
        signal.addEventListener('abort', () => sink.remove(id), { once: true });
      }
      if (listing.problem) throw new Error(listing.problem);
    },
    settled: () => probes.settled?.() ?? Promise.resolve(),
  };
}

const hex = (n: number) => n.toString(16).padStart(4, '0');

export function usbDeviceId(d: UsbDeviceLike): string {
  return d.serialNumber ? `usb:${d.serialNumber}` : `usb:${hex(d.vendorId)}:${hex(d.productId)}`;
}

export interface UsbSourceOptions {
  /** The WebUSB object, or a loader (default: `usb`'s WebUSB, loaded on start). */
  readonly backend?: UsbBackend | (() => Promise<UsbBackend>);
  readonly identifyTimeoutMs?: number;
  /** This computer's ADB keys (default `<home>/adb`). */
  readonly adbKeyDir?: string;
  /** How often a phone that has not allowed this computer is asked again (default 2 s). */
  readonly authRecheckMs?: number;
}

/**
 * USB devices present now and hotplugged later; fastboot devices (interface ff/42/03) and phones in Android
 * (ADB interface ff/42/01) are identified, others classified. A phone that has not allowed this computer
 * is asked again every few seconds while it stays plugged in: nothing re-enumerates when its owner taps
 * "Allow", so that is how the list learns it.
 */
export function usbSource(opts: UsbSourceOptions = {}): DeviceSource {
  const pending = new Set<Promise<unknown>>();
  return {
    name: 'usb',
    async start(sink: DeviceSink, signal: AbortSignal) {
      let backend: UsbBackend;
      try {
        backend =
          typeof opts.backend === 'function'
            ? await opts.backend()
            : (opts.backend ?? (await loadNodeUsbBackend()));
        // Enumerate before subscribing: on a machine without a USB bus, `usb` fails the hotplug
        // subscription asynchronously (an unhandled rejection), while getDevices rejects cleanly.
        await backend.getDevices();
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw new Error(why.startsWith('no USB access') ? why : `no USB access (${why})`);
      }
      const table = loadUsbIds();
      const ids = new Map<UsbDeviceLike, string>();
      const rechecks = new Set<NodeJS.Timeout>();
      signal.addEventListener('abort', () => rechecks.forEach(clearTimeout), { once: true });
      const added = (d: UsbDeviceLike) => {
        const id = usbDeviceId(d);
        ids.set(d, id);
        const mode = classifyUsbDevice(d, table);
        const known = lookupUsbId(table, d.vendorId, d.productId);
        const address = `${hex(d.vendorId)}:${hex(d.productId)}`;
        // A phone in Android shows its ADB interface; in its bootloader, the fastboot one (classified so).
        // (Interfaces first: a VID:PID the table knows as a bootloader may be the same phone in Android.)
        const adb = findFastbootInterface(d) === undefined && findAdbInterface(d) !== undefined;
        const base = { id, connection: 'usb', address, mode: adb ? 'android' : mode } as const;
        if (mode !== 'fastboot' && !adb) {
          sink.upsert({
            ...base,
            state: 'ready',
            ...(d.serialNumber ? { serial: d.serialNumber } : {}),
            ...(known ? { product: known.name } : d.productName ? { product: d.productName } : {}),
          });
          return;
        }
        const timeoutMs = opts.identifyTimeoutMs ?? IDENTIFY_TIMEOUT_MS;
        const endpoint: Endpoint = adb
          ? {
              kind: 'adb',
              id,
              connection: 'usb',
              address,
              open: (o) => openAdb(id, { keyDir: opts.adbKeyDir ?? defaultAdbKeyDir(), usb: backend, ...o }),
            }
          : { id, connection: 'usb', address, open: () => openUsb(backend, d) };
        // The descriptor's name is the USB gadget's, not the product: only identification says what it is.
        const probe = (s: AbortSignal) =>
          probeAnyEndpoint(endpoint, timeoutMs, AbortSignal.any([signal, s])).then(
            (info): DeviceInfo => ({
              ...info,
              mode: adb ? (info.mode === 'unknown' ? 'android' : info.mode) : 'fastboot',
              // A device that does not say its serial (or will not yet) still has the USB descriptor's.
              ...(!info.serial && d.serialNumber ? { serial: d.serialNumber } : {}),
              // A plugged-in device that cannot be opened is there but unusable (permissions, driver): error.
              ...(info.state === 'gone' ? { state: 'error' } : {}),
            }),
          );
        sink.upsert(
          {
            ...base,
            state: 'identifying',
            ...(d.serialNumber ? { serial: d.serialNumber } : {}),
            ...(d.productName ? { note: `USB: ${d.productName}` } : {}),
          },
          probe,
          endpointControl(endpoint, timeoutMs, signal),
        );
        // A unit re-enumerating while its job reboots it belongs to the job: the job opens it, not a probe.
        if (sink.get?.(id)?.state === 'busy') return;
        const identify = (): Promise<void> =>
          probe(signal).then((info) => {
            if (signal.aborted || !ids.has(d)) return;
            sink.upsert(info);
            if (info.authorization !== 'unauthorized') return;
            const again = setTimeout(() => {
              rechecks.delete(again);
              const now = sink.get?.(id);
              if (
                !signal.aborted &&
                ids.has(d) &&
                now?.authorization === 'unauthorized' &&
                now.state !== 'busy'
              )
                void identify();
            }, opts.authRecheckMs ?? 2000);
            again.unref();
            rechecks.add(again);
          });
        const p = identify();
        pending.add(p);
        void p.finally(() => pending.delete(p));
      };
      const removed = (d: UsbDeviceLike) => {
        const id = ids.get(d) ?? usbDeviceId(d);
        ids.delete(d);
        sink.remove(id);
      };
      const watch = await watchUsbDevices(backend, added, removed);
      signal.addEventListener('abort', () => watch.stop(), { once: true });
    },
    async settled() {
      await Promise.allSettled([...pending]);
    },
  };
}
