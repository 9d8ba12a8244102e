/** The release-engineer flow through the real CLI: keygen → pack (flags and description file) → verify → inspect. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../../main/cli/program.js';

const bin = fileURLToPath(new URL('../../../bin/flashline.js', import.meta.url));

describe('flashline keygen / pack / verify / inspect', () => {
  let dir: string;
  /** The real binary (a process per call: slow, so used only where the process boundary matters). */
  const spawn = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, ...args], {
      cwd: dir,
      env: { ...process.env, FLASHLINE_HOME: join(dir, 'home') },
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  /** The same CLI in this process (paths made absolute), capturing its output. */
  const run = async (...args: string[]) => {
    const abs = args.map((a, i) => {
      const eq = /^([a-z]+)=(.+)$/.exec(a);
      if (eq) return `${eq[1]}=${join(dir, eq[2]!)}`;
      return (/\.(flp|key|pub|json|img)$/.test(a) || args[i - 1] === '--out') && !a.startsWith('/')
        ? join(dir, a)
        : a;
    });
    const out: string[] = [];
    const err: string[] = [];
    const ow = process.stdout.write.bind(process.stdout);
    const ew = process.stderr.write.bind(process.stderr);
    const saved = process.env.FLASHLINE_HOME;
    process.env.FLASHLINE_HOME = join(dir, 'home');
    process.stdout.write = ((c: string | Uint8Array) =>
      out.push(String(c)) > 0) as typeof process.stdout.write;
    process.stderr.write = ((c: string | Uint8Array) =>
      err.push(String(c)) > 0) as typeof process.stderr.write;
    try {
      const code = await runCli(abs);
      return { code, out: out.join(''), err: err.join('') };
    } finally {
      process.stdout.write = ow;
      process.stderr.write = ew;
      process.exitCode = undefined;
      if (saved === undefined) delete process.env.FLASHLINE_HOME;
      else process.env.FLASHLINE_HOME = saved;
    }
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'flashline-cli-pkg-'));
    writeFileSync(join(dir, 'boot.img'), Buffer.alloc(3_000_000, 7));
    const sparse = Buffer.alloc(8192);
    sparse.writeUInt32LE(0xed26ff3a, 0);
    writeFileSync(join(dir, 'system.img'), sparse);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates keys, packs, signs, encrypts and verifies', async () => {
    assert.equal((await run('keygen', '--out', 'release', '--product', 'acme-phone')).code, 0);
    assert.equal(statSync(join(dir, 'release.key')).mode & 0o777, 0o600);
    assert.equal((await run('keygen', '--out', 'release')).code, 1, 'refuses to overwrite');
    assert.equal((await run('keygen', '--out', 'station', '--type', 'station')).code, 0);
    mkdirSync(join(dir, 'home', 'trust'), { recursive: true });
    writeFileSync(join(dir, 'home', 'trust', 'release.pub'), readFileSync(join(dir, 'release.pub')));

    const simple = await run(
      'pack',
      '--product',
      'acme-phone',
      '--version',
      '2.1.0',
      '--rollback-index',
      '7',
      '--image',
      'boot=boot.img',
      '--image',
      'system=system.img',
      '--key',
      'release.key',
      '--out',
      'p.flp',
    );
    assert.equal(simple.code, 0, simple.err);
    const ok = await run('verify', 'p.flp', '--json', '--product', 'acme-phone');
    assert.equal(ok.code, 0, ok.out + ok.err);
    const json = JSON.parse(ok.out) as {
      ok: boolean;
      code: number;
      summary: { images: { partition: string; sparse: boolean }[] };
    };
    assert.equal(json.ok, true);
    assert.deepEqual(
      json.summary.images.map((i) => [i.partition, i.sparse]),
      [
        ['boot', false],
        ['system', true],
      ],
    );

    const rb = await run('verify', 'p.flp', '--device-rollback-index', '8');
    assert.equal(rb.code, 26);
    assert.match(rb.out, /rollback index 7 is below the device's 8/);
    assert.equal((await run('verify', 'p.flp', '--trust', join(dir, 'nothing'))).code, 23);

    writeFileSync(
      join(dir, 'pack.json'),
      JSON.stringify({
        products: ['acme-phone'],
        version: '2.2.0',
        rollbackIndex: 8,
        expectedVersion: '2.2.0-build5',
        hardwareRevisions: ['rev-b'],
        images: [
          { partition: 'boot', file: 'boot.img' },
          { partition: 'modem', file: 'system.img', slotted: false },
        ],
        install: [
          { op: 'flash', partition: 'boot' },
          { op: 'flash', partition: 'modem' },
          { op: 'set_active', slot: 'other' },
        ],
      }),
    );
    const enc = await run(
      'pack',
      '--manifest',
      'pack.json',
      '--key',
      'release.key',
      '--encrypt-to',
      'station.pub',
      '--out',
      'e.flp',
    );
    assert.equal(enc.code, 0, enc.err);
    assert.equal((await run('verify', 'e.flp')).code, 29);
    assert.equal((await run('verify', 'e.flp', '--decryption-key', 'station.key')).code, 0);
    assert.equal(
      (await run('verify', 'e.flp', '--decryption-key', 'station.key', '--hardware-revision', 'rev-a')).code,
      27,
    );

    const ins = await run('inspect', 'e.flp', '--json');
    assert.equal(ins.code, 0, ins.err);
    const info = JSON.parse(ins.out) as {
      manifest: { expectedVersion: string; install: unknown[] };
      encryptedFor: string[];
    };
    assert.equal(info.manifest.expectedVersion, '2.2.0-build5');
    assert.equal(info.manifest.install.length, 3);
    assert.equal(info.encryptedFor.length, 1);
    assert.match((await run('inspect', 'e.flp')).out, /NOT verified/);

    const bytes = readFileSync(join(dir, 'p.flp'));
    bytes[bytes.length - 2048 - 100]! ^= 1;
    writeFileSync(join(dir, 'bad.flp'), bytes);
    // The real binary once: exit code = status code across the process boundary.
    const bad = spawn('verify', 'bad.flp');
    assert.equal(bad.code, 28);
    assert.match(bad.out, /FAILED bad\.flp: status 28 image_mismatch/);
  });

  it('exits 2 on bad flags and 1 on bad input, with one clear line', async () => {
    const r = spawn('verify', 'p.flp', '--device-rollback-index', '-1');
    assert.equal(r.code, 2);
    assert.match(r.err, /not a non-negative integer/);
    const p = spawn('pack', '--product', 'acme-phone', '--key', 'release.key', '--out', 'x.flp');
    assert.equal(p.code, 1);
    assert.match(p.err, /needs --product, --version, --rollback-index/);
    assert.ok(!p.err.includes('    at '));
    const k = spawn(
      'pack',
      '--product',
      'acme-phone',
      '--version',
      '1',
      '--rollback-index',
      '1',
      '--image',
      'boot=boot.img',
      '--key',
      'station.key',
      '--out',
      'x.flp',
    );
    assert.equal(k.code, 1, k.err);
    assert.match(k.err, /expected a signing private key/);
  });
});
