/**
 * The station answers bad API input with a validation error as data ({code:'bad_input',…}) and keeps
 * serving — over a real WebSocket, with the real router, token check and server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TRPCClientError } from '@trpc/client';
import WebSocket from 'ws';
import type { AppRouter } from '../../../main/api/router.js';
import { DeviceRegistry } from '../../../main/devices/registry.js';
import { createService } from '../../../main/station/run-station.js';
import { type Station, startStation } from '../../../main/station/server.js';
import { connectStation, type StationClient } from './trpc-ws-client.js';

type Flashline = { code: string; message: string; detail?: unknown };

function flashlineOf(err: unknown): Flashline {
  assert.ok(err instanceof TRPCClientError, `expected a TRPCClientError, got ${String(err)}`);
  const data = (err as TRPCClientError<AppRouter>).data as { flashline?: Flashline; stack?: unknown };
  assert.equal(data.stack, undefined, 'no stack crosses the API');
  assert.ok(data.flashline);
  return data.flashline;
}

/** Send one raw text frame and collect the reply frames until `count` arrive. */
function rawExchange(url: string, frame: string, count: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const replies: unknown[] = [];
    ws.once('open', () => ws.send(frame));
    ws.on('message', (data) => {
      replies.push(JSON.parse(String(data)));
      if (replies.length >= count) {
        ws.close();
        resolve(replies);
      }
    });
    ws.once('error', reject);
    ws.once('close', () => resolve(replies));
  });
}

describe('station API validation', () => {
  const devices = new DeviceRegistry();
  let station: Station;
  let conn: StationClient;
  let staticDir: string;

  before(async () => {
    staticDir = mkdtempSync(join(tmpdir(), 'flashline-static-'));
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>t</title>');
    station = await startStation({
      host: '127.0.0.1',
      port: 0,
      staticDir,
      service: createService({ devices }),
    });
    conn = connectStation(station.origin, station.token);
  });

  after(async () => {
    await conn?.close();
    await station?.close();
    rmSync(staticDir, { recursive: true, force: true });
  });

  test('invalid input returns bad_input with the field, and the service keeps running', async () => {
    const empty = flashlineOf(await conn.client.devices.get.query({ id: '' }).catch((e: unknown) => e));
    assert.equal(empty.code, 'bad_input');
    assert.match(empty.message, /^Invalid request: id: .+Check the values sent/);
    assert.deepEqual((empty.detail as { path: string[] }[])[0]?.path, ['id']);

    const wrongType = flashlineOf(
      await conn.client.devices.get.query({ id: 42 as unknown as string }).catch((e: unknown) => e),
    );
    assert.equal(wrongType.code, 'bad_input');

    const extra = { id: 'x', extra: true } as unknown as { id: string };
    assert.equal(
      flashlineOf(await conn.client.devices.get.query(extra).catch((e: unknown) => e)).code,
      'bad_input',
    );

    const missing = flashlineOf(
      await conn.client.devices.get.query({ id: 'usb:NOPE' }).catch((e: unknown) => e),
    );
    assert.equal(missing.code, 'not_found');
    assert.match(missing.message, /flashline devices/);

    // Still serving, on the same connection.
    assert.equal((await conn.client.app.info.query()).product, 'Flashline');
    devices.upsert({ id: 'tcp:h:1', connection: 'tcp', address: 'h:1', mode: 'fastboot', state: 'ready' });
    assert.equal((await conn.client.devices.get.query({ id: 'tcp:h:1' })).address, 'h:1');
  });

  test('garbage frames are answered or dropped, never crash the station', async () => {
    const url = `${station.origin.replace(/^http/, 'ws')}/api?token=${station.token}`;
    const [parseError] = await rawExchange(url, '{not json', 1);
    assert.equal((parseError as { error?: { code?: number } }).error?.code, -32700);
    const [unknownPath] = await rawExchange(
      url,
      JSON.stringify({ id: 1, method: 'query', params: { path: 'nope.nothing', input: null } }),
      1,
    );
    assert.equal(
      (unknownPath as { error: { data: { flashline: Flashline } } }).error.data.flashline.code,
      'not_found',
    );
    assert.equal((await conn.client.app.info.query()).product, 'Flashline');
  });
});
