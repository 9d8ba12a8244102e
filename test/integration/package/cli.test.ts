/** The release-engineer flow through the real CLI: keygen → pack (flags and description file) → verify → inspect. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/flashline.js', import.meta.url));

describe('flashline keygen / pack / verify / inspect', () => {
  let dir: string;
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, ...args], {
      cwd: dir,
      env: { ...process.env, FLASHLINE_HOME: join(dir, 'home') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'flashline-cli-pkg-'));
    writeFileSync(join(dir, 'boot.img'), Buffer.alloc(3_000_000, 7));
    const sparse = Buffer.alloc(8192);
    sparse.writeUInt32LE(0xed26ff3a, 0);
    writeFileSync(join(dir, 'system.img'), sparse);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates keys, packs, signs, encrypts and verifies', () => {
    assert.equal(run('keygen', '--out', 'release', '--product', 'acme-phone').code, 0);
    assert.equal(statSync(join(dir, 'release.key')).mode & 0o777, 0o600);
    assert.equal(run('keygen', '--out', 'release').code, 1, 'refuses to overwrite');
    assert.equal(run('keygen', '--out', 'station', '--type', 'station').code, 0);
    mkdirSync(join(dir, 'home', 'trust'), { recursive: true });
    writeFileSync(join(dir, 'home', 'trust', 'release.pub'), readFileSync(join(dir, 'release.pub')));

    const simple = run(
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
    const ok = run('verify', 'p.flp', '--json', '--product', 'acme-phone');
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

    const rb = run('verify', 'p.flp', '--device-rollback-index', '8');
    assert.equal(rb.code, 26);
    assert.match(rb.out, /rollback index 7 is below the device's 8/);
    assert.equal(run('verify', 'p.flp', '--trust', join(dir, 'nothing')).code, 23);

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
    const enc = run(
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
    assert.equal(run('verify', 'e.flp').code, 29);
    assert.equal(run('verify', 'e.flp', '--decryption-key', 'station.key').code, 0);
    assert.equal(
      run('verify', 'e.flp', '--decryption-key', 'station.key', '--hardware-revision', 'rev-a').code,
      27,
    );

    const ins = run('inspect', 'e.flp', '--json');
    assert.equal(ins.code, 0, ins.err);
    const info = JSON.parse(ins.out) as {
      manifest: { expectedVersion: string; install: unknown[] };
      encryptedFor: string[];
    };
    assert.equal(info.manifest.expectedVersion, '2.2.0-build5');
    assert.equal(info.manifest.install.length, 3);
    assert.equal(info.encryptedFor.length, 1);
    assert.match(run('inspect', 'e.flp').out, /NOT verified/);

    const bytes = readFileSync(join(dir, 'p.flp'));
    bytes[bytes.length - 2048 - 100]! ^= 1;
    writeFileSync(join(dir, 'bad.flp'), bytes);
    const bad = run('verify', 'bad.flp');
    assert.equal(bad.code, 28);
    assert.match(bad.out, /FAILED bad\.flp: status 28 image_mismatch/);
  });

  it('exits 2 on bad flags and 1 on bad input, with one clear line', () => {
    const r = run('verify', 'p.flp', '--device-rollback-index', '-1');
    assert.equal(r.code, 2);
    assert.match(r.err, /not a non-negative integer/);
    const p = run('pack', '--product', 'acme-phone', '--key', 'release.key', '--out', 'x.flp');
    assert.equal(p.code, 1);
    assert.match(p.err, /needs --product, --version, --rollback-index/);
    assert.ok(!p.err.includes('    at '));
    const k = run(
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
    assert.equal(k.code, 1);
    assert.match(k.err, /expected a signing private key/);
  });
});
