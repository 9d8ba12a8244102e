/**
 * One TCP port of a virtual device (fastboot or ADB): opened while the device offers that link, closed
 * while it is down or in a mode that does not offer it (a connection is then refused, as with a real phone),
 * and always reopened on the same port — the first open with port 0 picks a free port and keeps it.
 */
import { createServer, type Server, type Socket } from 'node:net';

export class TcpListener {
  #server: Server | null = null;
  #port: number;

  constructor(
    readonly host: string,
    port: number,
    readonly onConnection: (socket: Socket) => void,
  ) {
    this.#port = port;
  }

  /** The port (0 until a free one was picked). */
  get port(): number {
    return this.#port;
  }

  get isOpen(): boolean {
    return this.#server !== null;
  }

  /** `tcp:HOST:PORT`-style host part (IPv6 in brackets). */
  get hostPort(): string {
    return `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.#port}`;
  }

  async open(): Promise<void> {
    if (this.#server) return;
    const server = createServer((socket) => this.onConnection(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.host, port: this.#port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    if (addr && typeof addr === 'object') this.#port = addr.port;
    this.#server = server;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}
