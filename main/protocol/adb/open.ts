/**
 * Open an ADB connection: `openAdb('adb:HOST:PORT', …)` over TCP, or `connectAdb(link, …)` over a link the
 * caller already opened (a StreamLink for TCP or an in-process pipe; a PacketLink for USB bulk, header and
 * payload as separate transfers). Both load (or create) this computer's key pair in `keyDir` and run the
 * CNXN/AUTH handshake before returning.
 */
import { type Link, OpenError, openTcpStream, parseDeviceId } from '../../transport/index.js';
import { AdbClientConnection } from './connection.js';
import type { AdbConnection } from './contract.js';
import { type AdbHandshakeOptions, adbHandshake } from './handshake.js';
import { loadAdbKey } from './key-store.js';
import { type AdbMessageLink, packetMessageLink, streamMessageLink } from './message-link.js';

export interface AdbOpenOptions extends AdbHandshakeOptions {
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
 * Open the ADB endpoint a device id names (`adb:HOST:PORT`).
 * @throws OpenError (bad id, nothing listening), AdbUnauthorizedError, AdbProtocolError, TimeoutError,
 *   AbortedError, DisconnectedError
 */
export async function openAdb(id: string, options: AdbOpenOptions): Promise<AdbConnection> {
  const address = parseDeviceId(id);
  if (address.kind !== 'adb') {
    throw new OpenError(
      `'${id}' is not an ADB endpoint; ADB over TCP is adb:HOST:PORT (ADB over USB is not supported yet)`,
    );
  }
  const link = await openTcpStream({
    host: address.host,
    port: address.port,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const where = address.host.includes(':') ? `[${address.host}]` : address.host;
  return connectAdb(link, { ...options, description: options.description ?? `adb ${where}:${address.port}` });
}
