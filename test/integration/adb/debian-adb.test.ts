/**
 * Debian's adb (1.0.41) is the judge of the virtual device's adbd (serveAdb): connect, devices (device /
 * unauthorized), shell with exit status, reboot. Keys interoperate both ways: Debian's adb uses a key pair
 * Flashline created, and Flashline uses one Debian's adb generated. The adb server runs on its own port
 * with HOME in a temp directory and is killed afterwards.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadAdbKey, openAdb } from '../../../main/protocol/adb/index.js';
import { FakePhone, listenAdb } from './fake-phone.js';

const home = mkdtempSync(join(tmpdir(), 'flashline-debian-adb-'));
let adbPort = 0;

function adb(args: string[], timeoutMs = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'adb',
      ['-P', String(adbPort), ...args],
      { env: { ...process.env, HOME: home, ANDROID_SDK_HOME: home }, timeout: timeoutMs },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Poll `adb devices` until `serial` shows `state` (bounded). */
async function waitForState(serial: string, state: string): Promise<string> {
  let listing = '';
  for (let i = 0; i < 50; i++) {
    listing = (await adb(['devices'])).stdout;
    if (listing.split('\n').some((l) => l.trim() === `${serial}\t${state}`)) return listing;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`adb devices never showed ${serial} as ${state}:\n${listing}`);
}

describe("Debian's adb against the virtual adbd", () => {
  before(async () => {
    // Flashline creates the key pair where Debian's adb looks for it ($HOME/.android).
    await loadAdbKey(join(home, '.android'));
    adbPort = await freePort();
    const started = await adb(['start-server']);
    assert.equal(started.code, 0, started.stderr);
  });
  after(async () => {
    await adb(['kill-server']);
    rmSync(home, { recursive: true, force: true });
  });

  it('connects, lists the device, runs shell commands with their exit status and reboots it', async () => {
    const phone = new FakePhone();
    const listener = await listenAdb(phone);
    const serial = `127.0.0.1:${listener.port}`;
    try {
      const connected = await adb(['connect', serial]);
      assert.match(connected.stdout, /connected to/);
      await waitForState(serial, 'device');
      const listing = await adb(['devices', '-l']);
      assert.match(listing.stdout, /product:virtual_phone model:Virtual_Phone device:vphone/);
      const slot = await adb(['-s', serial, 'shell', 'getprop', 'ro.boot.slot_suffix']);
      assert.deepEqual([slot.code, slot.stdout], [0, '_a\n']);
      const exit = await adb(['-s', serial, 'shell', 'exit 3']);
      assert.equal(exit.code, 3);
      const missing = await adb(['-s', serial, 'shell', 'nosuch']);
      assert.equal(missing.code, 127);
      assert.match(missing.stderr, /not found/);
      const reboot = await adb(['-s', serial, 'reboot', 'bootloader']);
      assert.equal(reboot.code, 0, reboot.stderr);
      assert.deepEqual(phone.reboots, ['bootloader']);
      assert.ok(
        (await Promise.all(listener.sessions)).some(
          (e) => e.reason === 'reboot' && e.target === 'bootloader',
        ),
      );
    } finally {
      await adb(['disconnect', serial]);
      await listener.close();
    }
  });

  it('accepts the key Flashline created (signature against a listed key) and shows unauthorized otherwise', async () => {
    const ours = await loadAdbKey(join(home, '.android'));
    const listed = await listenAdb(new FakePhone(), { authorizedKeys: [ours.publicKey] });
    const refused = await listenAdb(new FakePhone(), { authorizedKeys: [] });
    try {
      await adb(['connect', `127.0.0.1:${listed.port}`]);
      await waitForState(`127.0.0.1:${listed.port}`, 'device');
      await adb(['connect', `127.0.0.1:${refused.port}`]);
      await waitForState(`127.0.0.1:${refused.port}`, 'unauthorized');
      const denied = await adb(['-s', `127.0.0.1:${refused.port}`, 'shell', 'echo hi']);
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /unauthorized/);
    } finally {
      await adb(['disconnect', `127.0.0.1:${listed.port}`]);
      await adb(['disconnect', `127.0.0.1:${refused.port}`]);
      await listed.close();
      await refused.close();
    }
  });

  it("Flashline's client uses a key pair Debian's adb generated", async () => {
    const keyDir = join(home, 'debian-keys');
    mkdirSync(keyDir);
    const made = await adb(['keygen', join(keyDir, 'adbkey')]);
    assert.equal(made.code, 0, made.stderr);
    const debianPub = readFileSync(join(keyDir, 'adbkey.pub'), 'utf8');
    const listener = await listenAdb(new FakePhone(), { authorizedKeys: [debianPub] });
    try {
      const key = await loadAdbKey(keyDir);
      assert.equal(key.publicKey.split(' ')[0], debianPub.split(' ')[0], 'same public key blob');
      const conn = await openAdb(`adb:127.0.0.1:${listener.port}`, { keyDir, authWaitMs: 500 });
      assert.equal(await conn.getprop('ro.boot.slot_suffix'), '_a');
      await conn.close();
    } finally {
      await listener.close();
    }
  });
});
