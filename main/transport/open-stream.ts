/**
 * Open a raw byte-stream link from a device id, for stream protocols (Sahara/Firehose): `edl:HOST:PORT`
 * (TCP without fastboot's FB01 framing), `serial:PATH` (a QDLoader COM port, a pty) or `usb:SERIAL` /
 * `usb:05c6:9008` (the EDL interface over USB bulk, usb-edl.ts).
 */
import { OpenError } from './errors.js';
import { findUsbDevice, type OpenLinkOptions, parseDeviceId } from './open.js';
import { openSerialStream } from './serial.js';
import { openTcpStream } from './tcp.js';
import type { StreamLink } from './types.js';
import { openUsbEdl } from './usb-edl.js';

/** @throws OpenError (wrong id kind), TimeoutError, AbortedError, TransportUnavailableError */
export async function openStreamLink(id: string, opts: OpenLinkOptions = {}): Promise<StreamLink> {
  const address = parseDeviceId(id);
  const io = {
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  if (address.kind === 'edl') return openTcpStream({ host: address.host, port: address.port, ...io });
  if (address.kind === 'serial')
    return openSerialStream({
      path: address.path,
      ...opts.serialSettings,
      ...(opts.serialBackend ? { backend: opts.serialBackend } : {}),
      ...io,
    });
  if (address.kind === 'usb' || address.kind === 'usb-ids') {
    const { backend, device } = await findUsbDevice(id, address, opts);
    return openUsbEdl(backend, device, opts);
  }
  throw new OpenError(
    `'${id}' cannot carry EDL; use usb:SERIAL or usb:05c6:9008 (a device in EDL over USB), edl:HOST:PORT (a virtual device over TCP) or serial:PATH (a COM port or pty)`,
  );
}
