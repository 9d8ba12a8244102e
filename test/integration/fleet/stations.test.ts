/**
 * Stations as separate processes (`flashline line`, each with its own FLASHLINE_HOME) against one real
 * PostgreSQL and virtual devices over real TCP: three stations flash 30 units and every job is in the
 * database exactly once; a station killed mid-run while the database is down loses nothing and duplicates
 * nothing once both are back; two stations racing for one serial — exactly one flashes it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { makeDemoPackage } from '../../../main/cli/commands/demo.js';
import { ReportStore } from '../../../main/flash/report-store.js';
import type { VirtualDeviceHandle } from '../../../virtual-device/index.js';
import { type PgCluster, startPostgres } from '../../support/postgres.js';
import { after as deviceAfter, SMALL_PACKAGE, tempDir } from '../flash/helpers.js';
import { freePorts, spawnFlashline, startUnit } from '../line/helpers.js';

const tmp = tempDir('flashline-fleet-stations-');
let pg: PgCluster;
let sql: postgres.Sql;
let pkg: string;
const units: VirtualDeviceHandle[] = [];

before(async () => {
  pg = await startPostgres();
  sql = postgres(pg.url, { max: 2, onnotice: () => undefined });
  pkg = await makeDemoPackage(join(tmp.dir, 'fleet.flp'), SMALL_PACKAGE);
});
after(async () => {
  await Promise.all(units.map((u) => u.stop().catch(() => undefined)));
  await sql?.end({ timeout: 2 });
  await pg?.destroy();
  tmp.cleanup();
});

interface LineEvent {
  type: string;
  serial?: string;
  status?: number;
  reason?: string;
}

async function cli(args: string[], home: string): Promise<{ code: number | null; out: string; err: string }> {
  const c = spawnFlashline(args, home);
  const code = await c.exit;
  return { code, out: c.lines.join('\n'), err: c.stderr() };
}

async function joinFleet(name: string): Promise<string> {
  const home = join(tmp.dir, `home-${name}`);
  const r = await cli(['fleet', 'init', '--db', pg.url, '--station', name, '--site', 'lab'], home);
  assert.equal(r.code, 0, r.err);
  return home;
}

async function unitsOn(
  prefix: string,
  n: number,
  serialOf = (i: number) => `${prefix}${String(i).padStart(2, '0')}`,
) {
  const ports = await freePorts(n);
  const handles = await Promise.all(
    ports.map((p, i) => startUnit(join(tmp.dir, 'units', prefix), p, serialOf(i))),
  );
  units.push(...handles);
  return { ports, handles };
}

function line(home: string, ports: number[], extra: string[]) {
  return spawnFlashline(
    [
      'line',
      pkg,
      ...ports.flatMap((p) => ['--device', `tcp:127.0.0.1:${p}`]),
      '--concurrency',
      String(ports.length),
      '--poll',
      '150',
      '--no-usb',
      '--no-list-serial',
      '--json',
      ...extra,
    ],
    home,
  );
}

const events = (lines: string[]) => lines.map((l) => JSON.parse(l) as LineEvent);

describe('fleet stations', () => {
  it('three stations flash 30 units: every job in PostgreSQL exactly once, the report on either shows all', {
    timeout: 300_000,
  }, async () => {
    const homes = await Promise.all(['north', 'south', 'west'].map(joinFleet));
    const groups = await Promise.all(['N', 'S', 'W'].map((p) => unitsOn(`FLT${p}`, 10)));
    const runs = homes.map((home, i) => line(home, groups[i]!.ports, ['--count', '10']));
    const codes = await Promise.all(runs.map((r) => r.exit));
    assert.deepEqual(codes, [0, 0, 0], runs.map((r) => r.stderr()).join('\n'));
    // The line ships at the end (close flushes); every report is in, once.
    const rows = await sql<{ job_id: string; serial: string; station: string; status: number }[]>`
      SELECT job_id, serial, station, status FROM fleet_jobs WHERE serial LIKE 'FLT%'`;
    assert.equal(rows.length, 30);
    assert.equal(new Set(rows.map((r) => r.serial)).size, 30);
    assert.ok(rows.every((r) => r.status === 0));
    assert.deepEqual([...new Set(rows.map((r) => r.station))].sort(), ['north', 'south', 'west']);
    for (const home of homes) {
      const report = await cli(['fleet', 'report', '--since', '1h', '--format', 'json'], home);
      assert.equal(report.code, 0, report.err);
      const jobs = JSON.parse(report.out) as { jobId: string; serial: string }[];
      const mine = jobs.filter((j) => j.serial.startsWith('FLT'));
      assert.equal(mine.length, 30);
      assert.equal(new Set(mine.map((j) => j.jobId)).size, 30);
    }
    const status = await cli(['fleet', 'status', '--json'], homes[0]!);
    assert.equal((JSON.parse(status.out) as { backlog: number }).backlog, 0);
  });

  it('a station killed mid-run, the database down meanwhile: nothing lost, nothing duplicated after recovery', {
    timeout: 300_000,
  }, async () => {
    const home = await joinFleet('crashy');
    const { ports } = await unitsOn('CRS', 6);
    // First run: killed (SIGKILL) once two units have finished.
    const first = line(home, ports, []);
    await new Promise<void>((resolve) => {
      let ended = 0;
      first.onLine((l) => {
        if ((JSON.parse(l) as LineEvent).type === 'end' && ++ended === 2) resolve();
      });
    });
    first.child.kill('SIGKILL');
    await first.exit;
    await pg.stop();
    try {
      // Second run with the database down: interrupted jobs resume, the rest are flashed, claims unchecked.
      const second = line(home, ports, ['--idle-exit', '3']);
      assert.equal(await second.exit, 0, second.stderr());
      const status = JSON.parse((await cli(['fleet', 'status', '--json'], home)).out) as {
        backlog: number;
        lastError?: string;
        pendingChecks: number;
      };
      assert.ok(status.backlog > 0);
      assert.ok(status.pendingChecks > 0);
      assert.match(status.lastError ?? '', /not reachable/);
    } finally {
      await pg.start();
    }
    const sync = await cli(['fleet', 'sync'], home);
    assert.equal(sync.code, 0, sync.err);
    const store = ReportStore.forHome(home);
    const local = await store.list();
    await store.close();
    const rows = await sql<
      { job_id: string; serial: string; status: number; duplicate_check: string | null }[]
    >`
      SELECT job_id, serial, status, duplicate_check FROM fleet_jobs WHERE station = 'crashy'`;
    // Nothing lost: every report of the station is there; nothing duplicated: each job once.
    assert.deepEqual(rows.map((r) => r.job_id).sort(), local.map((r) => r.jobId).sort());
    const passed = rows
      .filter((r) => r.status === 0)
      .map((r) => r.serial)
      .sort();
    assert.deepEqual(passed, ['CRS00', 'CRS01', 'CRS02', 'CRS03', 'CRS04', 'CRS05']);
    assert.ok(rows.every((r) => r.duplicate_check === null));
    const after = JSON.parse((await cli(['fleet', 'status', '--json'], home)).out) as {
      backlog: number;
      pendingChecks: number;
    };
    assert.deepEqual([after.backlog, after.pendingChecks], [0, 0]);
  });

  it('two stations racing for one serial: exactly one flashes it, the other refuses with a reason', {
    timeout: 120_000,
  }, async () => {
    const homes = await Promise.all(['left', 'right'].map(joinFleet));
    // The same unit as each station sees it (one serial), on two endpoints.
    const a = await unitsOn('RACEA', 1, () => 'RACE-UNIT');
    const b = await unitsOn('RACEB', 1, () => 'RACE-UNIT');
    const runs = [
      line(homes[0]!, a.ports, ['--idle-exit', '3']),
      line(homes[1]!, b.ports, ['--idle-exit', '3']),
    ];
    await Promise.all(runs.map((r) => r.exit));
    const all = runs.map((r) => events(r.lines));
    const passed = all.map((ev) => ev.filter((e) => e.type === 'end' && e.status === 0).length);
    assert.deepEqual(passed.sort(), [0, 1]);
    const loser = all.find((ev) => !ev.some((e) => e.type === 'end' && e.status === 0))!;
    const refusal = loser.find((e) => e.type === 'skipped' || (e.type === 'end' && e.status === 38));
    assert.ok(refusal, JSON.stringify(loser));
    const rows = await sql<
      { status: number }[]
    >`SELECT status FROM fleet_jobs WHERE serial = 'RACE-UNIT' AND status = 0`;
    assert.equal(rows.length, 1);
    // Only one device was written: the other still runs what it ran before.
    const versions = [deviceAfter(a.handles[0]!).running, deviceAfter(b.handles[0]!).running];
    assert.notEqual(versions[0], versions[1]);
    // Forced through the CLI on the station that lost: refused with 38, the device still not written.
    const loserIndex = all.indexOf(loser);
    const loserUnit = loserIndex === 0 ? a : b;
    const forced = await cli(
      ['flash', pkg, '--device', `tcp:127.0.0.1:${loserUnit.ports[0]}`],
      homes[loserIndex]!,
    );
    assert.equal(forced.code, 38, forced.out + forced.err);
    assert.match(
      forced.out + forced.err,
      /RACE-UNIT was already flashed with this package on station (left|right)/,
    );
    assert.equal(deviceAfter(loserUnit.handles[0]!).running, versions[loserIndex]);
  });
});
