/**
 * Station mode: serves the built renderer over HTTP and the service API over a WebSocket, on loopback by
 * default. Every API connection must present the per-run token; without it the upgrade is answered 401.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import sirv from 'sirv';
import { WebSocketServer } from 'ws';
import { appRouter } from '../api/router.js';
import type { ServiceContext } from '../api/service.js';
import { flashlineHome } from '../common/paths.js';
import { newStationToken, presentedToken, tokenMatches } from './token.js';
import { DEFAULT_UPLOAD_LIMIT, handleUpload, UPLOAD_PATH } from './upload.js';
import { servicePolicy, UploadRetention } from './upload-retention.js';

export const API_PATH = '/api';

/** CSP for the station page: same as the desktop shell's, plus the WebSocket back to this origin. */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

export interface StationOptions {
  readonly host: string;
  readonly port: number;
  readonly staticDir: string;
  readonly service: ServiceContext;
  /** Fixed token (tests); a random one is made per run otherwise. */
  readonly token?: string;
  /** Largest package upload accepted (bytes); DEFAULT_UPLOAD_LIMIT otherwise. */
  readonly uploadLimitBytes?: number;
  /** Where uploaded packages land; `<FLASHLINE_HOME>/uploads` otherwise. */
  readonly uploadDir?: string;
}

export interface Station {
  readonly url: string;
  readonly origin: string;
  readonly token: string;
  readonly server: Server;
  close(): Promise<void>;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export { isLoopback };

export async function startStation(options: StationOptions): Promise<Station> {
  const token = options.token ?? newStationToken();
  const uploads = new UploadRetention(
    options.uploadDir ?? join(flashlineHome(), 'uploads'),
    servicePolicy(options.service.flash),
  );
  // Cleanup must never keep a station from starting; what is left is tried again next start.
  await uploads.removeStale().catch(() => 0);
  const assets = sirv(options.staticDir, { dev: false, etag: true, single: true });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    const url = new URL(req.url ?? '/', 'http://station');
    if (url.pathname === API_PATH || url.pathname.startsWith(`${API_PATH}/`)) {
      // HTTP calls to the API are not served (the API is WebSocket only); still say 401 without a token.
      const ok = tokenMatches(token, presentedToken(url, req.headers.authorization));
      res.statusCode = ok ? 426 : 401;
      res.setHeader('Content-Type', 'application/json');
      res.end(
        JSON.stringify(
          ok
            ? { code: 'upgrade_required', message: 'The API is served over WebSocket at /api.' }
            : {
                code: 'unauthorized',
                message: 'Missing or wrong station token. Open the URL printed by flashline station.',
              },
        ),
      );
      return;
    }
    if (url.pathname === UPLOAD_PATH) {
      if (!tokenMatches(token, presentedToken(url, req.headers.authorization))) {
        res.statusCode = 401;
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ code: 'unauthorized', message: 'Missing or wrong station token.' }));
        req.resume();
        return;
      }
      void handleUpload(req, res, {
        limitBytes: options.uploadLimitBytes ?? DEFAULT_UPLOAD_LIMIT,
        dir: uploads.dir,
        retention: uploads,
      });
      return;
    }
    assets(req, res, () => {
      res.statusCode = 404;
      res.end('Not found');
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const handler = applyWSSHandler({ wss, router: appRouter, createContext: () => options.service });

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://station');
    if (url.pathname !== API_PATH || !tokenMatches(token, presentedToken(url, req.headers.authorization))) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const origin = `http://${hostForUrl}:${address.port}`;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    server,
    async close() {
      handler.broadcastReconnectNotification();
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await uploads.removeAll();
    },
  };
}
