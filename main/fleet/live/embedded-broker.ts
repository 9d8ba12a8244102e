/**
 * A broker inside the station (`aedes`, in memory) for a single line with no broker of its own: the station
 * and the `flashline line` processes on the same machine publish to it and the station's fleet view reads it.
 * It listens on loopback only — it has no authentication, so other machines use a real broker (mosquitto).
 */
import { createServer, type Server } from 'node:net';

export interface EmbeddedBroker {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export async function startEmbeddedBroker(port: number): Promise<EmbeddedBroker> {
  // Loaded only when asked for (aedes is ESM-only; the desktop bundle is CommonJS and needs it never).
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port }, resolve);
    });
  } catch (err) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw err;
  }
  const bound = (server.address() as { port: number }).port;
  return {
    url: `mqtt://127.0.0.1:${bound}`,
    port: bound,
    async stop() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
