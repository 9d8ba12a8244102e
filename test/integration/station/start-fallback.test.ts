/**
 * `npm start` on a machine without a usable Electron (no binary here; no display in any case, since the
 * test removes DISPLAY/WAYLAND_DISPLAY) prints one fallback line, then serves the working UI in station
 * mode: the page loads and the API answers over the WebSocket with the printed token.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { connectStation } from './trpc-ws-client.js';

const root = new URL('../../../', import.meta.url).pathname;

test('npm start falls back to station mode with one clear line and serves the UI', async () => {
  const home = mkdtempSync(join(tmpdir(), 'flashline-start-'));
  const env: NodeJS.ProcessEnv = { ...process.env, FLASHLINE_HOME: home };
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  const child = spawn(process.execPath, ['scripts/start.mjs', '--port', '0'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  try {
    const lines: string[] = [];
    const rl = createInterface({ input: child.stdout });
    const url = await new Promise<string>((resolve, reject) => {
      rl.on('line', (line) => {
        lines.push(line);
        const m = /Open (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(line);
        if (m?.[1]) resolve(m[1]);
      });
      void exited.then((code) => reject(new Error(`npm start exited (${code}) early: ${stderr}`)));
    });
    const fallback = lines.filter((l) => l.startsWith('Flashline desktop window cannot start here:'));
    assert.equal(fallback.length, 1, lines.join('\n'));
    assert.match(fallback[0] ?? '', /Electron binary is not installed|no display/);
    assert.match(fallback[0] ?? '', /Starting station mode instead/);

    const parsed = new URL(url);
    const page = await fetch(`${parsed.origin}/`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<div id="root"><\/div>/);
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, 'the page loads the built script');
    assert.equal((await fetch(`${parsed.origin}/${script}`)).status, 200);

    const conn = connectStation(parsed.origin, parsed.searchParams.get('token') ?? '');
    try {
      const info = await conn.client.app.info.query();
      assert.equal(info.product, 'Flashline');
      assert.equal(info.mode, 'station');
    } finally {
      await conn.close();
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(home, { recursive: true, force: true });
  }
});
