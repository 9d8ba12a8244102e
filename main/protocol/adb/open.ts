/**
 * Open an ADB connection: `openAdb('adb:HOST:PORT' | 'usb:SERIAL', …)`, or `connectAdb(link, …)` over a link the
 * caller already opened (a StreamLink for TCP or an in-process pipe; a PacketLink for USB bulk, header and
 * payload as separate transfers). Both load (or create) this computer's key pair in `keyDir` and run the
 * CNXN/AUTH handshake before returning.
 */
import {
  findUsbDevice,
  type Link,
  OpenError,
  type OpenLinkOptions,
  openTcpStream,
  openUsbAdb,
  parseDeviceId,
} from '../../transport/index.js';
import { AdbClientConnection } from './connection.js';
import type { AdbConnection } from './contract.js';
import { type AdbHandshakeOptions, adbHandshake } from './handshake.js';
import { loadAdbKey } from './key-store.js';
import { type AdbMessageLink, packetMessageLink, streamMessageLink } from './message-link.js';

export interface AdbOpenOptions extends AdbHandshakeOptions {
  /** USB backend for `usb:` ids, or a loader called only then (default: `usb`'s WebUSB). */
  readonly usb?: OpenLinkOptions['usb'];
  /** Where `adbkey` / `adbkey.pub` live (`<home>/adb`); created on first use. */
  readonly keyDir: string;
  /** Description used in messages (default: the link's). */
  readonly description?: string;
}

/**
 * Handshake over an open link and return the connection; the link is closed when the handshake fails.
 * @throws AdbUnauthorizedError, AdbProtocolError, DisconnectedError, TimeoutError, AbortedError
 */
export async function connectAdb(link: Link, options: AdbOpenOptions): Promise<AdbConnection> {
  const messages: AdbMessageLink = link.kind === 'stream' ? streamMessageLink(link) : packetMessageLink(link);
  try {
    const key = await loadAdbKey(options.keyDir);
    const session = await adbHandshake(messages, key, options);
    return new AdbClientConnection(messages, session, options.description ?? link.description);
  } catch (err) {
    await link.close();
    throw err;
  }
}

/**
 * Open the ADB endpoint a device id names: `adb:HOST:PORT` (TCP), or `usb:SERIAL` / `usb:VVVV:PPPP` (the
 * unit's ADB interface, class ff/42/01, through `options.usb` or the `usb` module).
 * @throws OpenError (bad id, nothing listening, no ADB interface), AdbUnauthorizedError, AdbProtocolError,
 *   TimeoutError, AbortedError, DisconnectedError
 */
export async function openAdb(id: string, options: AdbOpenOptions): Promise<AdbConnection> {
  const address = parseDeviceId(id);
  const io = {
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  if (address.kind === 'usb' || address.kind === 'usb-ids') {
    const { backend, device } = await findUsbDevice(id, address, options);
    return connectAdb(await openUsbAdb(backend, device, io), options);
  }
  if (address.kind !== 'adb') {
    throw new OpenError(`'${id}' is not an ADB endpoint; ADB is adb:HOST:PORT (TCP) or usb:SERIAL`);
  }
  const link = await openTcpStream({ host: address.host, port: address.port, ...io });
  const where = address.host.includes(':') ? `[${address.host}]` : address.host;
  return connectAdb(link, { ...options, description: options.description ?? `adb ${where}:${address.port}` });
}
