/** fastboot over TCP (AOSP README "TCP Protocol v1"): connect, FB01 handshake, framed packets. */
import { connect, type Socket } from 'node:net';
import { type IoOptions, withDeadline } from './deadline.js';
import { OpenError } from './errors.js';
import { openFramed } from './framed.js';
import { streamLink } from './stream-link.js';
import type { PacketLink, StreamLink } from './types.js';

export const FASTBOOT_TCP_PORT = 5554;

export interface TcpOptions extends IoOptions {
  readonly host: string;
  readonly port?: number;
}

/** Open a TCP byte stream (no fastboot handshake). @throws OpenError, TimeoutError, AbortedError */
export async function openTcpStream(opts: TcpOptions): Promise<StreamLink> {
  const port = opts.port ?? FASTBOOT_TCP_PORT;
  const where = `tcp ${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  const socket: Socket = connect({ host: opts.host, port });
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new OpenError(
          `cannot connect to ${where} (${err.code ?? err.message}); check the address and that the device listens`,
          { cause: err },
        ),
      ),
    );
  });
  await withDeadline(
    `connecting to ${where}`,
    connected,
    { timeoutMs: opts.timeoutMs ?? 5000, ...(opts.signal ? { signal: opts.signal } : {}) },
    () => socket.destroy(),
  );
  socket.setNoDelay(true);
  return streamLink(socket, where);
}

/** Connect to a fastboot device over TCP and return its packet link. */
export async function openTcp(opts: TcpOptions): Promise<PacketLink> {
  return openFramed(await openTcpStream(opts), opts);
}
