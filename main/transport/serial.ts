/**
 * Serial lines through `serialport` (loaded lazily: nothing native loads unless a serial port is used).
 * fastboot over a serial line uses the same FB01 handshake and 8-byte framing as TCP — the virtual device's
 * `--pty` mode speaks exactly that.
 */
import type { Duplex } from 'node:stream';
import { enableDirectSerialIo } from '../common/serial-direct-io.js';
import { type IoOptions, withDeadline } from './deadline.js';
import { OpenError, TransportUnavailableError } from './errors.js';
import { openFramed } from './framed.js';
import { describePortHolder } from './port-holder.js';
import { streamLink } from './stream-link.js';
import type { PacketLink, StreamLink } from './types.js';

/** Line settings; defaults 115200 8N1 (what USB CDC-ACM modems and the virtual device expect). */
export interface SerialLineSettings {
  readonly baudRate?: number;
  readonly dataBits?: 5 | 6 | 7 | 8;
  readonly parity?: 'none' | 'even' | 'odd' | 'mark' | 'space';
  readonly stopBits?: 1 | 1.5 | 2;
  /** RTS/CTS hardware flow control. */
  readonly rtscts?: boolean;
}

/** What `SerialPort.list()` reports, narrowed to what Flashline uses. */
export interface SerialPortEntry {
  readonly path: string;
  readonly manufacturer?: string;
  readonly serialNumber?: string;
  readonly vendorId?: string;
  readonly productId?: string;
}

/**
 * The serial backend contract (node-serialport style: small and injectable so tests can pass fakes).
 */
export interface SerialBackend {
  /** Enumerate ports. May reject (e.g. `udevadm` missing); callers treat that as "no listing". */
  list(): Promise<SerialPortEntry[]>;
  /** Open `path` with the given settings and resolve with the open port as a Duplex. */
  open(
    path: string,
    settings: Required<Pick<SerialLineSettings, 'baudRate'>> & SerialLineSettings,
  ): Promise<Duplex>;
}

/** The real backend: `serialport`, imported on first use. */
export const nodeSerialBackend: SerialBackend = {
  async list() {
    const { SerialPort } = await loadSerialport();
    const ports = await SerialPort.list();
    return ports.map((p) => ({
      path: p.path,
      ...(p.manufacturer ? { manufacturer: p.manufacturer } : {}),
      ...(p.serialNumber ? { serialNumber: p.serialNumber } : {}),
      ...(p.vendorId ? { vendorId: p.vendorId } : {}),
      ...(p.productId ? { productId: p.productId } : {}),
    }));
  },
  async open(path, settings) {
    const { SerialPort } = await loadSerialport();
    const port = new SerialPort({ path, autoOpen: false, ...settings });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    enableDirectSerialIo(port.port);
    // serialport's stream has no _destroy: destroy() alone leaves the file descriptor open, its lock held
    // (the next open, even ours after a reboot, fails "Cannot lock port") and its poller keeping the
    // process alive. Destroying the stream closes the port.
    port._destroy = (error, callback) => {
      const binding = port.port;
      if (!binding?.isOpen) return callback(error);
      binding.close().then(
        () => callback(error),
        (closeError: unknown) => callback(error ?? (closeError as Error)),
      );
    };
    return port;
  },
};

async function loadSerialport(): Promise<typeof import('serialport')> {
  try {
    return await import('serialport');
  } catch (err) {
    throw new TransportUnavailableError(
      `serial ports are unavailable: the serialport module did not load (${err instanceof Error ? err.message : String(err)})`,
      { cause: err },
    );
  }
}

export interface SerialListing {
  readonly ports: SerialPortEntry[];
  /** Set when enumeration failed; the user can still enter a path by hand (ptys are never listed). */
  readonly problem?: string;
}

/** List serial ports without ever throwing: a failed enumeration becomes `problem`. */
export async function listSerialPorts(backend: SerialBackend = nodeSerialBackend): Promise<SerialListing> {
  try {
    return { ports: await withDeadline('listing serial ports', backend.list(), { timeoutMs: 5000 }) };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return {
      ports: [],
      problem: `serial ports could not be listed (${why}); enter the port path by hand (pseudo-terminals are never listed)`,
    };
  }
}

export interface SerialOptions extends IoOptions, SerialLineSettings {
  readonly path: string;
  readonly backend?: SerialBackend;
}

/** Open a serial port as a byte stream. @throws OpenError, TimeoutError, AbortedError */
export async function openSerialStream(opts: SerialOptions): Promise<StreamLink> {
  const backend = opts.backend ?? nodeSerialBackend;
  const { path } = opts;
  const settings = {
    baudRate: opts.baudRate ?? 115200,
    ...(opts.dataBits ? { dataBits: opts.dataBits } : {}),
    ...(opts.parity ? { parity: opts.parity } : {}),
    ...(opts.stopBits ? { stopBits: opts.stopBits } : {}),
    ...(opts.rtscts !== undefined ? { rtscts: opts.rtscts } : {}),
  };
  let stream: Duplex;
  try {
    const opening = backend.open(path, settings);
    // If we give up first, close the port whenever the open finally completes, so it never leaks.
    const abandon = () => {
      opening.then(
        (late) => late.destroy(),
        () => {},
      );
    };
    stream = await withDeadline(
      `opening serial port ${path}`,
      opening,
      { timeoutMs: opts.timeoutMs ?? 5000, ...(opts.signal ? { signal: opts.signal } : {}) },
      abandon,
    );
  } catch (err) {
    if (err instanceof TransportUnavailableError) throw err;
    throw await openFailure(path, err);
  }
  return streamLink(stream, `serial ${path}`);
}

/** "Cannot lock port" (Linux/macOS flock), EBUSY, or Windows' "Access denied" on a COM port in use. */
const PORT_IN_USE = /cannot lock port|resource busy|ebusy|access denied|resource temporarily unavailable/i;

/** Turn the backend's open failure into words a technician can act on, naming the holder when known. */
async function openFailure(path: string, err: unknown): Promise<OpenError> {
  const why = err instanceof Error ? err.message : String(err);
  if (!PORT_IN_USE.test(why)) {
    return new OpenError(`cannot open serial port ${path} (${why}); check the path and permissions`, {
      cause: err,
    });
  }
  const holder = await describePortHolder(path);
  const who = holder ? `another program holds it (${holder})` : 'another program holds it';
  return new OpenError(
    `serial port ${path} is in use: ${who}; close that program (a terminal, a modem manager, another Flashline) and try again`,
    { cause: err },
  );
}

/** Open fastboot over a serial line: FB01 handshake, framed packets. */
export async function openSerial(opts: SerialOptions): Promise<PacketLink> {
  return openFramed(await openSerialStream(opts), opts);
}
