/**
 * Station hardening over real sockets on loopback: a foreign Host (DNS rebinding) and a foreign Origin are
 * refused on pages, uploads and WebSocket upgrades; uploads over --max-upload are refused; a station with
 * package folders opens nothing outside them (symlinks and `..` resolved); timeouts are set deliberately.
 * The HTTPS station (`--allow-remote`) is in station-tls.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TRPCClientError } from '@trpc/client';
import type { AppRouter } from '../../../main/api/router.js';
import { FlashlineError } from '../../../main/common/errors.js';
import type { FlashServiceApi } from '../../../main/flash/service-api.js';
import { createService } from '../../../main/station/run-station.js';
import { STATION_TIMEOUTS, type Station, startStation } from '../../../main/station/server.js';
import { connectStation } from './trpc-ws-client.js';

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** One raw HTTP request (fetch cannot set Host or Origin); upgrades answer their status line too. */
function raw(
  station: Station,
  path: string,
  headers: Record<string, string>,
  options: { method?: string; body?: Buffer } = {},
): Promise<Answer> {
  const url = new URL(station.origin);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method: options.method ?? 'GET', headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const upgradeHeaders = {
  Connection: 'Upgrade',
  Upgrade: 'websocket',
  'Sec-WebSocket-Version': '13',
  'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
};

/** A flash service that records which paths reached openPackage (and opens nothing). */
function recordingFlash(opened: string[]): FlashServiceApi {
  return {
    openPackage: async (path: string) => {
      opened.push(path);
      throw new FlashlineError(21, 'test double: not a package');
    },
    flash: async (path: string) => {
      opened.push(path);
      return [];
    },
    packages: () => [],
    forgetPackage: () => undefined,
    getAutoFlash: () => ({ enabled: false, packagePath: null }),
    manager: { list: () => [] },
  } as unknown as FlashServiceApi;
}

function flashlineCode(err: unknown): { code: unknown; message: string } {
  assert.ok(err instanceof TRPCClientError, String(err));
  const data = (err as TRPCClientError<AppRouter>).data as { flashline: { code: unknown; message: string } };
  return data.flashline;
}

describe('station hardening (loopback, real HTTP and WebSocket)', () => {
  const root = mkdtempSync(join(tmpdir(), 'flashline-hardening-'));
  const packages = join(root, 'packages');
  const outside = join(root, 'outside');
  const opened: string[] = [];
  let station: Station;

  before(async () => {
    mkdirSync(packages);
    mkdirSync(outside);
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(packages, 'good.flp'), 'x');
    writeFileSync(join(outside, 'secret.flp'), 'x');
    symlinkSync(join(outside, 'secret.flp'), join(packages, 'link-out.flp'));
    symlinkSync(outside, join(packages, 'dir-out'));
    station = await startStation({
      host: '127.0.0.1',
      port: 0,
      staticDir: root,
      service: createService({ flash: recordingFlash(opened) }),
      uploadDir: join(root, 'uploads'),
      uploadLimitBytes: 4 * 1024,
      packageFolders: [packages],
    });
  });
  after(async () => {
    await station.close();
    rmSync(root, { recursive: true, force: true });
  });

  const port = () => new URL(station.origin).port;
  const auth = () => ({ Authorization: `Bearer ${station.token}` });

  it('serves the page to its own names', async () => {
    for (const host of [`127.0.0.1:${port()}`, `localhost:${port()}`]) {
      assert.equal((await raw(station, '/', { Host: host })).status, 200, host);
    }
  });

  it('refuses a foreign Host (DNS rebinding) with 421 and a line saying what to do', async () => {
    const page = await raw(station, '/', { Host: `evil.example:${port()}` });
    assert.equal(page.status, 421);
    assert.match(page.body, /^This Flashline station answers only to .*--allow-host NAME.*\n$/);
    assert.equal(page.body.trim().split('\n').length, 1, 'one line');
    const api = await raw(station, `/api?token=${station.token}`, {
      ...upgradeHeaders,
      Host: `evil.example:${port()}`,
    });
    assert.equal(api.status, 421);
    const upload = await raw(
      station,
      '/upload',
      { ...auth(), Host: `evil.example:${port()}`, 'X-Flashline-Filename': 'a.flp' },
      { method: 'POST', body: Buffer.alloc(10) },
    );
    assert.equal(upload.status, 421);
  });

  it('refuses a foreign Origin on the WebSocket upgrade, even with the token; its own origin connects', async () => {
    const host = `127.0.0.1:${port()}`;
    const foreign = await raw(station, `/api?token=${station.token}`, {
      ...upgradeHeaders,
      Host: host,
      Origin: 'http://evil.example',
    });
    assert.equal(foreign.status, 403);
    const nullOrigin = await raw(station, `/api?token=${station.token}`, {
      ...upgradeHeaders,
      Host: host,
      Origin: 'null',
    });
    assert.equal(nullOrigin.status, 403);
    const own = await raw(station, `/api?token=${station.token}`, {
      ...upgradeHeaders,
      Host: host,
      Origin: station.origin,
    });
    assert.equal(own.status, 101);
  });

  it('refuses a foreign Origin on an upload, even with the token; its own origin uploads', async () => {
    const headers = { ...auth(), Host: `127.0.0.1:${port()}`, 'X-Flashline-Filename': 'a.flp' };
    const foreign = await raw(
      station,
      '/upload',
      { ...headers, Origin: 'http://evil.example' },
      { method: 'POST', body: Buffer.alloc(100) },
    );
    assert.equal(foreign.status, 403);
    assert.match(foreign.body, /Requests from the page 'http:\/\/evil\.example' are refused/);
    const own = await raw(
      station,
      '/upload',
      { ...headers, Origin: station.origin },
      { method: 'POST', body: Buffer.alloc(100) },
    );
    assert.equal(own.status, 200, own.body);
  });

  it('refuses an upload over --max-upload with 413, naming the limit and what to do', async () => {
    const res = await raw(
      station,
      '/upload',
      { ...auth(), Host: `127.0.0.1:${port()}`, 'X-Flashline-Filename': 'big.flp' },
      { method: 'POST', body: Buffer.alloc(4 * 1024 + 1) },
    );
    assert.equal(res.status, 413);
    const body = JSON.parse(res.body) as { code: string; message: string };
    assert.equal(body.code, 'too_large');
    assert.match(body.message, /larger than this station accepts \(4 KiB\).*--max-upload/);
  });

  it('opens packages only inside its package folders, after resolving links and ..', async () => {
    const conn = connectStation(station.origin, station.token);
    try {
      const refused = [
        join(outside, 'secret.flp'),
        join(packages, '..', 'outside', 'secret.flp'),
        join(packages, 'link-out.flp'),
        join(packages, 'dir-out', 'secret.flp'),
        '/etc/passwd',
        packages,
      ];
      for (const path of refused) {
        const err = flashlineCode(await conn.client.packages.open.mutate({ path }).catch((e: unknown) => e));
        assert.equal(err.code, 'outside_package_folders', path);
        assert.match(err.message, /opens packages only from its package folders .*Upload the file/);
      }
      const start = flashlineCode(
        await conn.client.jobs.start
          .mutate({ packagePath: join(outside, 'secret.flp'), deviceIds: ['d'] })
          .catch((e: unknown) => e),
      );
      assert.equal(start.code, 'outside_package_folders');
      const auto = flashlineCode(
        await conn.client.jobs.autoFlash
          .mutate({ packagePath: join(outside, 'secret.flp') })
          .catch((e: unknown) => e),
      );
      assert.equal(auto.code, 'outside_package_folders');
      assert.deepEqual(opened, [], 'nothing outside the folders reached the package reader');

      const inside = flashlineCode(
        await conn.client.packages.open.mutate({ path: join(packages, 'good.flp') }).catch((e: unknown) => e),
      );
      assert.equal(inside.code, 21, 'a path inside the folders is handed to the reader');
      assert.deepEqual(opened, [join(packages, 'good.flp')]);
    } finally {
      await conn.close();
    }
  });

  it('lets a slow upload run for hours while headers and idle connections are still cut short', () => {
    // 4 GiB over a 2 MB/s link takes about 36 minutes; Node's default would stop it after 300 s.
    assert.equal(station.server.requestTimeout, STATION_TIMEOUTS.requestMs);
    assert.ok(STATION_TIMEOUTS.requestMs >= ((4 * 1024 ** 3) / (256 * 1024)) * 1000, '4 GiB at 256 KiB/s');
    assert.equal(station.server.headersTimeout, STATION_TIMEOUTS.headersMs);
    assert.ok(STATION_TIMEOUTS.headersMs <= 60_000);
    assert.equal(station.server.timeout, STATION_TIMEOUTS.idleMs);
  });
});

describe('station on loopback without --packages', () => {
  it('keeps opening any path for the local user, and refuses plain HTTP off loopback', async () => {
    const root = mkdtempSync(join(tmpdir(), 'flashline-open-any-'));
    const opened: string[] = [];
    const station = await startStation({
      host: '127.0.0.1',
      port: 0,
      staticDir: root,
      service: createService({ flash: recordingFlash(opened) }),
      uploadDir: join(root, 'uploads'),
    });
    const conn = connectStation(station.origin, station.token);
    try {
      assert.equal(station.packageFolders, undefined);
      await conn.client.packages.open.mutate({ path: join(root, 'anywhere.flp') }).catch(() => undefined);
      assert.deepEqual(opened, [join(root, 'anywhere.flp')]);
      await assert.rejects(
        startStation({ host: '0.0.0.0', port: 0, staticDir: root, service: createService() }),
        /Refusing to serve 0\.0\.0\.0 over plain HTTP/,
      );
    } finally {
      await conn.close();
      await station.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
