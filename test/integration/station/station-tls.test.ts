/**
 * `flashline station --allow-remote` serves HTTPS only, with a self-signed certificate kept under
 * `<FLASHLINE_HOME>/station-tls/` (same fingerprint after a restart) whose SHA-256 fingerprint is printed
 * beside the URL and is the one the server presents. `--tls-cert/--tls-key` are checked for belonging
 * together. Bound to loopback so the test never serves the network.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { loadTls, selfSignedTls } from '../../../main/station/tls.js';

const root = new URL('../../../', import.meta.url).pathname;

interface Running {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** What the station logged to stderr so far. */
  stderr(): string;
}

/** Start the CLI and wait for the line that matches `ready`. */
async function startCli(home: string, args: readonly string[], ready: RegExp): Promise<Running> {
  const child = spawn(process.execPath, ['bin/flashline.js', 'station', ...args], {
    cwd: root,
    env: { ...process.env, FLASHLINE_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (ready.test(line)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`station exited (${code}) early: ${stderr}`)));
  });
  return { child, lines, stderr: () => stderr };
}

async function stop(running: Running): Promise<void> {
  const exited = new Promise((resolve) => running.child.once('exit', resolve));
  running.child.kill('SIGTERM');
  await exited;
}

/** GET over HTTPS without trusting the certificate; answers the status and the presented fingerprint. */
function fetchHttps(url: string): Promise<{ status: number; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { rejectUnauthorized: false }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint }));
    });
    req.on('error', reject);
  });
}

describe('station over HTTPS (--allow-remote)', () => {
  const home = mkdtempSync(join(tmpdir(), 'flashline-tls-'));
  after(() => rmSync(home, { recursive: true, force: true }));
  const base = ['--allow-remote', '--host', '127.0.0.1', '--port', '0', '--no-usb', '--no-serial'];

  it('serves HTTPS with the printed fingerprint, not plain HTTP, and keeps the certificate', async () => {
    const first = await startCli(home, [...base, '--json'], /^\{/);
    let printed: { url: string; token: string; tlsFingerprint: string };
    try {
      printed = JSON.parse(first.lines.find((l) => l.startsWith('{')) ?? '{}');
      assert.match(printed.url, /^https:\/\/127\.0\.0\.1:\d+\/\?token=/);
      assert.match(printed.tlsFingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      const page = await fetchHttps(printed.url);
      assert.equal(page.status, 200);
      assert.equal(page.fingerprint, printed.tlsFingerprint, 'the printed fingerprint is the served one');
      const plain = new URL(printed.url);
      plain.protocol = 'http:';
      await assert.rejects(
        new Promise((resolve, reject) => httpGet(plain, resolve).on('error', reject)),
        'plain HTTP is not answered',
      );
      assert.equal(statSync(join(home, 'station-tls', 'key.pem')).mode & 0o077, 0, 'key is private');
      assert.match(
        first.stderr(),
        new RegExp(`Packages are opened only from: ${join(home, 'packages')}, ${join(home, 'uploads')}`),
        '--allow-remote limits package paths to the package folders',
      );
    } finally {
      await stop(first);
    }
    // A restart keeps the certificate, and the human-readable output shows the fingerprint by the URL.
    const second = await startCli(home, base, /certificate SHA-256 fingerprint/);
    try {
      const at = second.lines.findIndex((l) => l.startsWith('Flashline station is running. Open https://'));
      assert.ok(at >= 0, second.lines.join('\n'));
      assert.equal(
        second.lines[at + 1]?.trim().split(' ')[3],
        printed.tlsFingerprint,
        'same fingerprint after a restart, printed beside the URL',
      );
    } finally {
      await stop(second);
    }
  });

  it('checks that --tls-cert and --tls-key belong together', async () => {
    const a = join(home, 'a');
    const b = join(home, 'b');
    const one = await selfSignedTls(['localhost'], a);
    await selfSignedTls(['localhost'], b);
    assert.equal((await loadTls(join(a, 'cert.pem'), join(a, 'key.pem'))).fingerprint, one.fingerprint);
    await assert.rejects(
      loadTls(join(a, 'cert.pem'), join(b, 'key.pem')),
      /does not belong to the certificate/,
    );
    await assert.rejects(
      loadTls(join(a, 'missing.pem'), join(a, 'key.pem')),
      /Cannot read the TLS certificate/,
    );
    await assert.rejects(loadTls(join(a, 'key.pem'), join(a, 'key.pem')), /not a PEM certificate/);
  });
});
