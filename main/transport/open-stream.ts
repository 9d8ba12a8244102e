/**
 * Open a raw byte-stream link from a device id, for stream protocols (Sahara/Firehose): `edl:HOST:PORT`
 * (TCP without fastboot's FB01 framing) or `serial:PATH` (a QDLoader COM port, a pty). USB EDL is later work.
 */
import { OpenError } from './errors.js';
import { type OpenLinkOptions, parseDeviceId } from './open.js';
import { openSerialStream } from './serial.js';
import { openTcpStream } from './tcp.js';
import type { StreamLink } from './types.js';

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
  throw new OpenError(
    `'${id}' cannot carry EDL here; use edl:HOST:PORT (a virtual device over TCP) or serial:PATH (a COM port or pty)`,
  );
}
