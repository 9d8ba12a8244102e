/**
 * Station mode: serves the built renderer over HTTP (HTTPS when given a certificate; required off loopback)
 * and the service API over a WebSocket, on loopback by default. Every request must name this station in its
 * Host header and, when it changes anything or opens the API, come from no page or this station's own page
 * (request-guard.ts); every API connection and upload must present the per-run token.
 */
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import sirv from 'sirv';
import { WebSocketServer } from 'ws';
import { appRouter } from '../api/router.js';
import type { ServiceContext } from '../api/service.js';
import { FlashlineError } from '../common/errors.js';
import { defaultPackageFolders, PackageFolders } from './package-folders.js';
import { isLoopbackHost, isSafeMethod, type Refusal, RequestGuard } from './request-guard.js';
import type { StationTls } from './tls.js';
import { newStationToken, presentedToken, tokenMatches } from './token.js';
import { DEFAULT_UPLOAD_LIMIT, defaultUploadDir, handleUpload, UPLOAD_PATH } from './upload.js';
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
  /** Extra host names accepted in Host and Origin (`--allow-host`). */
  readonly allowHosts?: readonly string[];
  /** Serve HTTPS with this certificate; required when bound to a non-loopback address. */
  readonly tls?: StationTls;
  /**
   * The only folders packages may be opened from (`--packages`). Default: none on loopback (any path),
   * otherwise `<FLASHLINE_HOME>/packages` and the upload folder (see package-folders.ts).
   */
  readonly packageFolders?: readonly string[];
}

/**
 * Time limits. Node's default 300 s for a whole request would cut a large upload over a slow LAN (4 GiB at
 * 2 MB/s takes 35 minutes), so a request may take up to 6 hours (4 GiB at 200 KB/s); slow-loris clients
 * are still stopped because headers must arrive within 30 s and a connection that moves no byte for
 * 2 minutes is closed. Only token holders get past the headers of an upload.
 */
export const STATION_TIMEOUTS = {
  requestMs: 6 * 3600 * 1000,
  headersMs: 30 * 1000,
  idleMs: 120 * 1000,
} as const;

export interface Station {
  readonly url: string;
  readonly origin: string;
  readonly token: string;
  readonly server: Server;
  /** SHA-256 fingerprint of the TLS certificate when serving HTTPS. */
  readonly tlsFingerprint?: string;
  /** The folders packages may be opened from, or undefined when any path may be. */
  readonly packageFolders?: readonly string[];
  close(): Promise<void>;
}

/**
 * Close the connection once a refusal is sent instead of reading the body: Node would otherwise drain a
 * refused request's body (maybe gigabytes) to keep the connection reusable.
 */
function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Connection', 'close');
  const socket = req.socket;
  if (!req.complete) res.once('finish', () => socket.destroy());
}

function refuse(req: IncomingMessage, res: ServerResponse, refusal: Refusal): void {
  closeAfterAnswer(req, res);
  res.statusCode = refusal.status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(`${refusal.message}\n`);
}

function refuseUpgrade(socket: Socket, status: number, message = ''): void {
  const body = message ? `${message}\n` : '';
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export async function startStation(options: StationOptions): Promise<Station> {
  if (!isLoopbackHost(options.host) && !options.tls) {
    throw new FlashlineError(
      'bad_input',
      `Refusing to serve ${options.host} over plain HTTP: the token would cross the network readable. Serving other machines needs HTTPS (a certificate).`,
    );
  }
  const token = options.token ?? newStationToken();
  const uploads = new UploadRetention(
    options.uploadDir ?? defaultUploadDir(),
    servicePolicy(options.service.flash),
  );
  // Cleanup must never keep a station from starting; what is left is tried again next start.
  await uploads.removeStale().catch(() => 0);
  const folders =
    options.packageFolders ?? (isLoopbackHost(options.host) ? undefined : defaultPackageFolders(uploads.dir));
  const service: ServiceContext = folders
    ? { ...options.service, packagePaths: new PackageFolders(folders) }
    : options.service;
  const scheme = options.tls ? 'https' : 'http';
  // Set once the port is known (listen callback), before any connection is handled.
  let guard: RequestGuard | undefined;
  /** Host always; Origin on upgrades and state-changing requests (request-guard.ts says why). */
  const check = (req: IncomingMessage, checkOrigin: boolean): Refusal | undefined => {
    if (!guard) return { status: 503, message: 'The station is starting; retry in a moment.' };
    return (
      guard.checkHost(req.headers.host) ?? (checkOrigin ? guard.checkOrigin(req.headers.origin) : undefined)
    );
  };
  const assets = sirv(options.staticDir, { dev: false, etag: true, single: true });
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // same-origin rather than no-referrer: the Fetch standard serialises the Origin of a POST under
    // no-referrer as `null`, which the Origin check refuses; same-origin still sends no referrer elsewhere.
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader('X-Frame-Options', 'DENY');
    const refusal = check(req, !isSafeMethod(req.method));
    if (refusal) {
      // Answered with Connection: close, and the body (maybe gigabytes) is never read.
      refuse(req, res, refusal);
      return;
    }
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
        closeAfterAnswer(req, res);
        res.end(JSON.stringify({ code: 'unauthorized', message: 'Missing or wrong station token.' }));
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
  };
  const server: Server = options.tls
    ? (createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, onRequest) as unknown as Server)
    : createServer(onRequest);
  server.requestTimeout = STATION_TIMEOUTS.requestMs;
  server.headersTimeout = STATION_TIMEOUTS.headersMs;
  server.timeout = STATION_TIMEOUTS.idleMs;

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const handler = applyWSSHandler({ wss, router: appRouter, createContext: () => service });

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const refusal = check(req, true);
    if (refusal) {
      refuseUpgrade(socket, refusal.status, refusal.message);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://station');
    if (url.pathname !== API_PATH || !tokenMatches(token, presentedToken(url, req.headers.authorization))) {
      refuseUpgrade(socket, 401);
      return;
    }
    // An open API connection may be quiet for long (no events): it is not subject to the idle limit.
    socket.setTimeout(0);
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const bound = server.address() as AddressInfo;
      guard = new RequestGuard({
        boundAddress: bound.address,
        port: bound.port,
        scheme,
        ...(options.allowHosts ? { allowHosts: options.allowHosts } : {}),
      });
      resolve();
    });
  });
  const origin = (guard as RequestGuard | undefined)?.origin ?? '';
  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    server,
    ...(options.tls ? { tlsFingerprint: options.tls.fingerprint } : {}),
    ...(folders ? { packageFolders: folders } : {}),
    async close() {
      handler.broadcastReconnectNotification();
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await uploads.removeAll();
    },
  };
}
