/**
 * `flashline repo serve`: a local static server for `<repo>/public/` (sirv: a well-kept static handler with
 * HTTP range support, already used by the station for its UI). It looks files up on every request
 * (sirv's `dev` lookup) because `publish` adds files while it runs; consistent-snapshot files never change,
 * so they are marked immutable, and timestamp.json is never cached.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sirv from 'sirv';
import { publicDir } from './state.js';

export interface RepoServer {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

export async function serveRepository(
  repoDir: string,
  options: { port?: number; host?: string } = {},
): Promise<RepoServer> {
  const files = sirv(publicDir(repoDir), {
    dev: true,
    etag: true,
    dotfiles: false,
    setHeaders(res, pathname) {
      res.setHeader(
        'Cache-Control',
        pathname.endsWith('/timestamp.json') ? 'no-cache' : 'public, max-age=31536000, immutable',
      );
    },
  });
  const server = createServer((req, res) =>
    files(req, res, () => {
      res.statusCode = 404;
      res.end('not found\n');
    }),
  );
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
