/**
 * `flashline fleet init|status|report` as a technician runs them: init is idempotent and writes fleet.json
 * with mode 0600 and no credentials; a password in the URL, a password file others can read, or an
 * unreachable database are refused with what to do and nothing written; a station with nothing configured
 * says so; the password from the environment reaches the database (md5 login) and is never printed.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { MIGRATIONS } from '../../../main/fleet/migrations.js';
import { type PgCluster, startPostgres } from '../../support/postgres.js';
import { tempDir } from '../flash/helpers.js';
import { spawnFlashline } from '../line/helpers.js';

const tmp = tempDir('flashline-fleet-cli-');
let pg: PgCluster;

before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg?.destroy();
  tmp.cleanup();
});

async function cli(args: string[], home: string, env: Record<string, string> = {}) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const c = spawnFlashline(args, home);
    const code = await c.exit;
    return { code, out: c.lines.join('\n'), err: c.stderr() };
  } finally {
    process.env = saved;
  }
}

// Every shipped migration, applied to a new database by `fleet init`.
const LATEST = MIGRATIONS.at(-1)?.version ?? 0;
const APPLIED_ALL = `schema version ${LATEST} (applied ${MIGRATIONS.map((m) => m.version).join(', ')})`;

describe('flashline fleet (CLI)', () => {
  it('init is idempotent, writes 0600 settings without credentials, and status/report work', async () => {
    const home = join(tmp.dir, 'a');
    const first = await cli(['fleet', 'init', '--db', pg.url, '--station', 'st-a', '--site', 'lab'], home);
    assert.equal(first.code, 0, first.err);
    assert.ok(first.out.includes(APPLIED_ALL), first.out);
    const again = await cli(['fleet', 'init', '--db', pg.url], home);
    assert.equal(again.code, 0, again.err);
    assert.ok(again.out.includes(`schema version ${LATEST} (up to date)\nstation st-a, site lab`), again.out);
    const stat = await fs.stat(join(home, 'fleet.json'));
    assert.equal(stat.mode & 0o777, 0o600);
    const status = await cli(['fleet', 'status'], home);
    assert.match(status.out, /backlog: 0 report\(s\)/);
    const report = await cli(['fleet', 'report', '--format', 'csv'], home);
    assert.equal(report.code, 0, report.err);
    assert.match(report.out, /^jobId,station,site,/);
  });

  it('refuses a password in the URL, a readable password file and an unreachable database; writes nothing', async () => {
    const home = join(tmp.dir, 'b');
    const inUrl = await cli(['fleet', 'init', '--db', 'postgres://u:hunter2@127.0.0.1:1/x'], home);
    assert.equal(inUrl.code, 1);
    assert.match(inUrl.err, /Do not put the database password in the URL/);
    assert.doesNotMatch(inUrl.err + inUrl.out, /hunter2/);
    const file = join(tmp.dir, 'pw');
    await fs.writeFile(file, 'secret\n', { mode: 0o644 });
    await fs.chmod(file, 0o644);
    const readable = await cli(['fleet', 'init', '--db', pg.url, '--db-password-file', file], home);
    assert.equal(readable.code, 1);
    assert.match(readable.err, /can be read by other users \(mode 644\); run 'chmod 600/);
    const down = await cli(['fleet', 'init', '--db', 'postgres://flashline@127.0.0.1:1/postgres'], home);
    assert.equal(down.code, 1);
    assert.match(down.err, /127\.0\.0\.1:1\/postgres is not reachable/);
    await assert.rejects(fs.stat(join(home, 'fleet.json')), { code: 'ENOENT' });
    const status = await cli(['fleet', 'status'], home);
    assert.match(status.out, /not part of a fleet database/);
    const report = await cli(['fleet', 'report'], home);
    assert.equal(report.code, 1);
    assert.match(report.err, /no fleet database; run 'flashline fleet init/);
    // A damaged settings file is refused, never half-used — by the fleet commands and by a flash alike.
    await fs.mkdir(home, { recursive: true });
    await fs.writeFile(join(home, 'fleet.json'), '{"version":1,"station":"bad name!"');
    const damaged = await cli(['fleet', 'status'], home);
    assert.equal(damaged.code, 1);
    assert.match(damaged.err, /fleet\.json is not JSON; run 'flashline fleet init' again/);
    await fs.writeFile(join(home, 'fleet.json'), '{"version":1,"station":"bad name!","site":"x"}');
    const flash = await cli(['flash', join(tmp.dir, 'none.flp'), '--device', 'tcp:127.0.0.1:1'], home);
    assert.equal(flash.code, 1);
    assert.match(flash.err, /fleet\.json: station: use letters, digits, dot, dash or underscore/);
  });

  it('takes the password from the environment for a password login, and never prints it', async () => {
    const admin = postgres(pg.url, { max: 1, onnotice: () => undefined });
    await admin.unsafe(`CREATE ROLE fleetuser LOGIN PASSWORD 'pa55-word'`);
    await admin.unsafe('CREATE DATABASE fleetdb OWNER fleetuser');
    await admin.end();
    // Trust for the test's own user, scram for fleetuser: a wrong or missing password fails the login.
    const hba = join(pg.dir, 'data', 'pg_hba.conf');
    await fs.writeFile(
      hba,
      'host all fleetuser 127.0.0.1/32 scram-sha-256\nhost all all 127.0.0.1/32 trust\nlocal all all trust\n',
    );
    const reload = postgres(pg.url, { max: 1, onnotice: () => undefined });
    await reload`SELECT pg_reload_conf()`;
    await reload.end();
    const url = pg.url.replace('flashline@', 'fleetuser@').replace(/\/postgres$/, '/fleetdb');
    const home = join(tmp.dir, 'c');
    const wrong = await cli(['fleet', 'init', '--db', url], home, { FLASHLINE_FLEET_DB_PASSWORD: 'nope' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /refused the login \(28P01\)\. Nothing was written/);
    assert.doesNotMatch(wrong.err, /nope/);
    const ok = await cli(['fleet', 'init', '--db', url, '--station', 'pw'], home, {
      FLASHLINE_FLEET_DB_PASSWORD: 'pa55-word',
    });
    assert.equal(ok.code, 0, ok.err);
    assert.ok(ok.out.includes(APPLIED_ALL), ok.out);
    assert.doesNotMatch(ok.out + ok.err + (await fs.readFile(join(home, 'fleet.json'), 'utf8')), /pa55-word/);
  });
});
