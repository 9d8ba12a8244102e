/**
 * OTA reports from the bus into the fleet store, against a real PostgreSQL and a real mosquitto (both started
 * here on loopback, stopped by PID): each attempt is one row moved forward only by `seq`, repeats and
 * out-of-order reports change nothing, reports that do not fit are dropped and counted; reports published
 * while the ingester is down arrive through its persistent session; a report is acknowledged only once its
 * row is committed, so one that arrives while the database is away lands when it returns; the rollout query
 * counts per package the devices that have it, are updating, failed by code, and the stations' jobs.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import postgres from 'postgres';
import { migrate } from '../../../main/fleet/migrations.js';
import type { OtaIngester, OtaLiveSnapshot } from '../../../main/fleet/ota-ingest.js';
import { PgRolloutQueries } from '../../../main/fleet/rollout-queries.js';
import { JOB_COLUMNS, reportToRow } from '../../../main/fleet/rows.js';
import type { OtaPhase } from '../../../main/protocol/ota/report.js';
import { startStationOta } from '../../../main/station/fleet-ota.js';
import { fakeReport } from '../../support/job-reports.js';
import { type Mosquitto, startMosquitto } from '../../support/mosquitto.js';
import { type PgCluster, startPostgres } from '../../support/postgres.js';
import { otaReport, publishOtaReport } from './ota-reports.js';

let pg: PgCluster;
let broker: Mosquitto;
let sql: postgres.Sql;
let device: MqttClient;
const ingesters: OtaIngester[] = [];

before(async () => {
  [pg, broker] = await Promise.all([startPostgres(), startMosquitto()]);
  sql = postgres(pg.url, { max: 4, onnotice: () => undefined });
  await migrate(sql);
  device = await mqtt.connectAsync(broker.url, { clientId: 'test-device', clean: true });
});
after(async () => {
  for (const i of ingesters) await i.stop();
  await device?.endAsync();
  await sql?.end({ timeout: 2 });
  await pg?.destroy();
  await broker?.stop();
});

function ingest(station: string, db: postgres.Sql | undefined = sql): OtaIngester {
  const ota = startStationOta({
    brokerUrl: broker.url,
    site: 'plant',
    station,
    sql: db,
    log: () => undefined,
  });
  ingesters.push(ota.ingester);
  return ota.ingester;
}

function until(i: OtaIngester, test: (s: OtaLiveSnapshot) => boolean): Promise<OtaLiveSnapshot> {
  return new Promise((resolve) => {
    const check = () => {
      const s = i.snapshot();
      if (!test(s)) return;
      off();
      resolve(s);
    };
    const off = i.onChange(check);
    check();
  });
}

const report = otaReport;
const send = (r: Parameters<typeof publishOtaReport>[2], serial?: string) =>
  publishOtaReport(device, 'plant', r, serial);

async function row(attemptId: string) {
  const [r] = await sql<{ seq: number; phase: string; status: number | null; serial: string }[]>`
    SELECT seq, phase, status, serial FROM fleet_ota_attempts WHERE attempt_id = ${attemptId}`;
  return r;
}

describe('OTA report ingest', () => {
  it('keeps one row per attempt moved forward by seq; repeats change nothing; misfits are counted', async () => {
    const ingester = ingest('ingest-1');
    await ingester.subscribed;
    const a = randomUUID();
    await send(report({ attemptId: a, seq: 0, serial: 'OTA1', phase: 'checking' }));
    await send(report({ attemptId: a, seq: 1, serial: 'OTA1', phase: 'downloading' }));
    await send(report({ attemptId: a, seq: 3, serial: 'OTA1', phase: 'done', status: 0 }));
    // Late and repeated: older than what is stored.
    await send(report({ attemptId: a, seq: 2, serial: 'OTA1', phase: 'installing' }));
    await send(report({ attemptId: a, seq: 3, serial: 'OTA1', phase: 'done', status: 0 }));
    // Another device reusing the attempt id with a higher seq cannot overwrite it.
    await send(report({ attemptId: a, seq: 9, serial: 'OTA2', phase: 'failed', status: 24 }));
    // Misfits: not JSON, the topic's serial differs, an ended attempt without its code.
    await send('not json', 'OTA1');
    await send(report({ attemptId: randomUUID(), seq: 0, serial: 'OTA1', phase: 'checking' }), 'OTA3');
    const noCode = report({ attemptId: randomUUID(), seq: 0, serial: 'OTA1', phase: 'failed' });
    await send(noCode);
    const s = await until(ingester, (x) => x.received === 9 && x.waiting === 0);
    assert.deepEqual(
      { stored: s.stored, stale: s.stale, dropped: s.dropped },
      { stored: 3, stale: 3, dropped: 3 },
    );
    assert.match(s.lastDrop ?? '', /without its status code/);
    assert.deepEqual(await row(a), { seq: 3, phase: 'done', status: 0, serial: 'OTA1' });
    assert.equal(await row(noCode.attemptId), undefined);
    // The live view holds each device's newest attempt.
    const live = s.devices.find((d) => d.serial === 'OTA1');
    assert.equal(live?.attemptId, a);
    assert.equal(live?.phase, 'done');
    await ingester.stop();
  });

  it('receives what devices reported while it was down (persistent session)', async () => {
    const first = ingest('ingest-2');
    await first.subscribed;
    await first.stop();
    const b = randomUUID();
    await send(report({ attemptId: b, seq: 0, serial: 'OTA4', phase: 'downloading' }));
    await send(report({ attemptId: b, seq: 1, serial: 'OTA4', phase: 'failed', status: 24 }));
    // The same station again: the broker kept its session and the two reports.
    const again = ingest('ingest-2');
    await until(again, (x) => x.stored === 2);
    assert.deepEqual(await row(b), { seq: 1, phase: 'failed', status: 24, serial: 'OTA4' });
    await again.stop();
  });

  it('counts per package: devices that have it, updating, failed by code, and the stations’ jobs', async () => {
    const ingester = ingest('ingest-3');
    await ingester.subscribed;
    const version = '3.0.0';
    const attempts: [string, OtaPhase, number | undefined][] = [
      ['R1', 'done', 0],
      ['R2', 'downloading', undefined],
      ['R3', 'failed', 24],
      ['R4', 'failed', 24],
      ['R5', 'failed', 46],
    ];
    for (const [serial, phase, status] of attempts) {
      await send(
        report({
          attemptId: randomUUID(),
          seq: 0,
          serial,
          phase,
          version,
          ...(status !== undefined ? { status } : {}),
        }),
      );
    }
    // R4 tries again and succeeds: its newest attempt counts.
    await send(
      report({
        attemptId: randomUUID(),
        seq: 0,
        serial: 'R4',
        phase: 'done',
        status: 0,
        version,
        startedAt: new Date(Date.now() + 60_000),
      }),
    );
    await until(ingester, (x) => x.stored === 6 && x.waiting === 0);
    const jobs = [
      { station: 'line-1', status: 0 },
      { station: 'line-2', status: 42 },
    ].map(({ station, status }) => {
      const r = fakeReport({ serial: `J-${station}`, status });
      return reportToRow({ ...r, package: { ...r.package, version } }, { station, site: 'plant' }, false);
    });
    await sql`INSERT INTO fleet_jobs ${sql(jobs as never, ...JOB_COLUMNS)}`;
    const all = await new PgRolloutQueries(sql).rollout(50);
    const pkg = all.find((p) => p.packageId === 'demo' && p.packageVersion === version);
    assert.deepEqual(pkg?.devices, {
      installed: 2,
      inProgress: 1,
      failed: [
        { status: 24, statusName: 'failed', count: 1 },
        { status: 46, statusName: 'failed', count: 1 },
      ],
    });
    assert.deepEqual(pkg?.stations, {
      stations: 2,
      passed: 1,
      failed: [{ status: 42, statusName: 'booted_old_slot', count: 1 }],
    });
    // The newest activity first: this package before the first tests' 2.0.0.
    assert.equal(all[0]?.packageVersion, version);
    await assert.rejects(new PgRolloutQueries(sql).rollout(0), /1 to 200/);
    await ingester.stop();
  });

  it('holds the acknowledgement while the database is away; the report lands when it returns', async () => {
    const ingester = ingest('ingest-4');
    await ingester.subscribed;
    // Idle connections only when the server goes: postgres.js 3.4.9 can throw from a write it had queued on a
    // connection the server closes (porsager/postgres#1208), which is not what this test is about.
    await ingester.schemaChecked;
    await pg.stop();
    const c = randomUUID();
    await send(report({ attemptId: c, seq: 0, serial: 'OTA5', phase: 'checking' }));
    await until(ingester, (x) => x.waiting === 1);
    await pg.start();
    await until(ingester, (x) => x.stored === 1);
    assert.deepEqual(await row(c), { seq: 0, phase: 'checking', status: null, serial: 'OTA5' });
    await ingester.stop();
  });
});
