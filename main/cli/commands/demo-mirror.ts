/**
 * The OTA demo's flaky mirror: an HTTP front for the local repository that, the first time a package file is
 * fetched whole, cuts the connection halfway through — so the station's sync shows its ranged resume
 * (`Range: bytes=N-`) in the log. Hand-written rather than a proxy library: the whole point is the one fault
 * it injects, and passing a GET through `fetch` with its Range header is a few lines.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DroppingMirror {
  readonly url: string;
  /** How many connections it cut (1 after the first package download). */
  drops(): number;
  close(): Promise<void>;
}

const PASSED_HEADERS = ['content-type', 'content-length', 'content-range', 'accept-ranges', 'etag'];

export async function startDroppingMirror(
  origin: string,
  log: (line: string) => void,
): Promise<DroppingMirror> {
  let dropped = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    const range = req.headers.range;
    const upstream = await fetch(`${origin}${path}`, {
      method: req.method === 'HEAD' ? 'HEAD' : 'GET',
      headers: { 'accept-encoding': 'identity', ...(range ? { range } : {}) },
    });
    const isPackage = path.startsWith('/targets/') && path.endsWith('.flp');
    if (isPackage && range) log(`Mirror: ${path.slice(9, 30)}… asked again from ${range} (resuming)`);
    res.statusCode = upstream.status;
    for (const h of PASSED_HEADERS) {
      const v = upstream.headers.get(h);
      if (v !== null) res.setHeader(h, v);
    }
    const total = Number(upstream.headers.get('content-length') ?? 0);
    // Cut the first whole download of a package at half its length.
    const cutAt = isPackage && !range && dropped === 0 && total > 0 ? Math.floor(total / 2) : undefined;
    if (!upstream.body) {
      res.end();
      return;
    }
    let sent = 0;
    const reader = upstream.body.getReader();
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        let chunk = r.value;
        if (cutAt !== undefined && sent + chunk.byteLength >= cutAt) {
          chunk = chunk.subarray(0, cutAt - sent);
          await new Promise<void>((resolve) => res.write(chunk, () => resolve()));
          dropped += 1;
          log(`Mirror: dropped the connection after ${cutAt} of ${total} bytes of ${path.slice(9, 30)}…`);
          res.socket?.destroy();
          return;
        }
        sent += chunk.byteLength;
        if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', () => resolve()));
      }
      res.end();
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    drops: () => dropped,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
