/**
 * The live bus against a real mosquitto (started here on a free loopback port, stopped by PID):
 * a real `flashline line` process publishes its station status, device state and result; a dashboard that
 * subscribes late still gets the retained state; the dashboard sees the station go offline when the process
 * is killed (the broker sends its Last Will); progress is throttled; payloads that do not fit are dropped.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { makeDemoPackage } from '../../../main/cli/commands/demo.js';
import type { DeviceEvent, DeviceInfo } from '../../../main/devices/device-info.js';
import { DeviceRegistry } from '../../../main/devices/registry.js';
import type { JobEvent } from '../../../main/flash/events.js';
import {
  type LiveDashboard,
  type LiveSnapshot,
  startLiveDashboard,
  startLivePublisher,
} from '../../../main/fleet/live/index.js';
import { startFleetLive } from '../../../main/station/fleet-live.js';
import { type Mosquitto, startMosquitto } from '../../support/mosquitto.js';
import { SMALL_PACKAGE, tempDir } from '../flash/helpers.js';
import { freePorts, spawnFlashline, startUnit } from '../line/helpers.js';

const tmp = tempDir('flashline-live-mqtt-');
let broker: Mosquitto;
const dashboards: LiveDashboard[] = [];

before(async () => {
  broker = await startMosquitto();
});
after(async () => {
  for (const d of dashboards) await d.stop();
  await broker.stop();
  tmp.cleanup();
});

function dashboard(): LiveDashboard {
  const d = startLiveDashboard({
    url: broker.url,
    site: 'default',
    log: () => undefined,
    brokerLabel: 'test',
  });
  dashboards.push(d);
  return d;
}

/** Resolves with the first snapshot that satisfies `test` (checked on every change). */
function until(d: LiveDashboard, test: (s: LiveSnapshot) => boolean): Promise<LiveSnapshot> {
  return new Promise((resolve) => {
    const check = () => {
      const s = d.snapshot();
      if (!test(s)) return;
      off();
      resolve(s);
    };
    const off = d.onChange(check);
    check();
  });
}

const stationOf = (s: LiveSnapshot, name: string) => s.stations.find((x) => x.station === name);

describe('live bus over mosquitto', () => {
  it('a line publishes state and results; a late dashboard gets them retained; a killed line goes offline', {
    timeout: 120_000,
  }, async (t) => {
    const early = dashboard();
    await early.subscribed;
    const pkg = await makeDemoPackage(join(tmp.dir, 'live.flp'), SMALL_PACKAGE);
    const [port] = await freePorts(1);
    const deviceId = `tcp:127.0.0.1:${port}`;
    const line = spawnFlashline(
      [
        'line',
        pkg,
        '--device',
        deviceId,
        '--mqtt',
        broker.url,
        '--station-name',
        'line-a',
        '--poll',
        '150',
        '--no-usb',
        '--no-list-serial',
        '--json',
      ],
      join(tmp.dir, 'home-a'),
    );
    // Cleanups as hooks: they run even when the test times out, so no child outlives the file.
    t.after(() => {
      if (line.child.exitCode === null && line.child.signalCode === null) line.child.kill('SIGKILL');
    });
    const online = await until(early, (s) => stationOf(s, 'line-a')?.online === true);
    assert.equal(stationOf(online, 'line-a')?.role, 'line');
    const unit = await startUnit(tmp.dir, port ?? 0, 'LIVE001');
    t.after(() => unit.stop());
    // The job ends: its result is on the port, the device is no longer busy.
    const done = await until(early, (s) => {
      const d = stationOf(s, 'line-a')?.devices.find((x) => x.deviceId === deviceId);
      return d?.lastResult !== undefined && d.state?.job === undefined;
    });
    const device = stationOf(done, 'line-a')?.devices.find((x) => x.deviceId === deviceId);
    assert.equal(device?.lastResult?.status, 0, line.stderr());
    assert.equal(device?.lastResult?.serial, 'LIVE001');
    assert.equal(device?.state?.serial, 'LIVE001');

    // A dashboard that starts now gets the station, the device and its result from retained messages.
    const late = dashboard();
    const seen = await until(late, (s) => {
      const d = stationOf(s, 'line-a')?.devices.find((x) => x.deviceId === deviceId);
      return stationOf(s, 'line-a')?.online === true && d?.state !== undefined && d.lastResult !== undefined;
    });
    const lateDevice = stationOf(seen, 'line-a')?.devices.find((x) => x.deviceId === deviceId);
    assert.equal(lateDevice?.lastResult?.jobId, device?.lastResult?.jobId);

    // Killed without a goodbye: the broker publishes the Last Will, both dashboards see it offline.
    line.child.kill('SIGKILL');
    await line.exit;
    for (const d of [early, late]) {
      const off = await until(d, (s) => stationOf(s, 'line-a')?.online === false);
      assert.equal(stationOf(off, 'line-a')?.reason, 'lost');
    }
  });

  it('throttles progress per job (each stage edge passes) and drops payloads that do not fit', {
    timeout: 30_000,
  }, async (t) => {
    let clock = 1_000_000;
    const deviceListeners: ((e: DeviceEvent) => void)[] = [];
    const jobListeners: ((e: JobEvent) => void)[] = [];
    const device: DeviceInfo = {
      id: 'tcp:127.0.0.1:1',
      connection: 'tcp',
      address: '127.0.0.1:1',
      mode: 'fastboot',
      state: 'busy',
      serial: 'THROTTLE1',
    };
    const publisher = startLivePublisher({
      url: broker.url,
      address: { site: 'default', station: 'bench-b' },
      role: 'station',
      version: 'test',
      log: () => undefined,
      now: () => clock,
      progressIntervalMs: 1000,
      sources: {
        devices: {
          list: () => [device],
          subscribe: (l) => {
            deviceListeners.push(l);
            return () => undefined;
          },
        },
        jobs: {
          subscribe: (l) => {
            jobListeners.push(l);
            return () => undefined;
          },
        },
      },
    });
    t.after(() => publisher.stop());
    const probe = await mqtt.connectAsync(broker.url);
    t.after(() => probe.endAsync());
    const received: string[] = [];
    const resultArrived = new Promise<void>((resolve) => {
      probe.on('message', (topic) => {
        received.push(topic.split('/').pop() ?? '');
        if (topic.endsWith('/result')) resolve();
      });
    });
    await publisher.ready;
    await probe.subscribeAsync('flashline/default/bench-b/+/progress', { qos: 1 });
    await probe.subscribeAsync('flashline/default/bench-b/+/result', { qos: 1 });
    const emit = (e: JobEvent) => {
      for (const l of jobListeners) l(e);
    };
    const progress = (bytesDone: number) =>
      emit({
        type: 'progress',
        jobId: 'job-1',
        deviceId: device.id,
        stage: 'download',
        bytesDone,
        bytesTotal: 1000,
        rate: 10,
        eta: 1,
      });
    // 100 updates within one interval: only the first passes …
    for (let i = 1; i <= 100; i++) progress(i);
    // … one more once the interval has passed, and the stage's last update always.
    clock += 1000;
    progress(500);
    progress(600);
    progress(1000);
    emit({
      type: 'end',
      jobId: 'job-1',
      deviceId: device.id,
      status: 0,
      report: {
        jobId: 'job-1',
        deviceId: device.id,
        startedAt: new Date(clock).toISOString(),
        endedAt: new Date(clock).toISOString(),
        device: { serial: 'THROTTLE1' },
        package: { id: 'p', version: '1', sha256: 'a'.repeat(64), rollbackIndex: 1 },
        stages: [],
        bytesWritten: 1000,
        rate: 10,
        status: 0,
        statusName: 'ok',
        message: 'ok',
        remedy: '',
        deviceVerification: 'ok',
        resumes: 0,
        messages: [],
      },
    });
    // The result is QoS 1 and sent after the progress: once it is here, every progress that passed is too.
    await resultArrived;
    assert.deepEqual(
      received.filter((t) => t === 'progress'),
      ['progress', 'progress', 'progress'],
    );

    // A payload that does not fit the schema (or is not JSON) is dropped and counted, never shown.
    const d = dashboard();
    await d.subscribed;
    const before = d.snapshot().rejected;
    await probe.publishAsync('flashline/default/bench-b/tcp:x/state', '{"v":1,"deviceId":"tcp:x"}', {
      qos: 1,
    });
    await probe.publishAsync('flashline/default/bench-b/status', 'not json', { qos: 1 });
    const after = await until(d, (s) => s.rejected >= before + 2);
    assert.equal(
      stationOf(after, 'bench-b')?.devices.some((x) => x.deviceId === 'tcp:x'),
      false,
    );
  });

  it('a station with no broker configured embeds one (aedes) and its fleet view sees itself', {
    timeout: 30_000,
  }, async (t) => {
    const log: string[] = [];
    const live = await startFleetLive({
      config: undefined,
      embedBrokerPort: 0,
      stationName: 'solo',
      role: 'station',
      version: 'test',
      sources: { devices: new DeviceRegistry(), jobs: { subscribe: () => () => undefined } },
      dashboard: true,
      log: (line) => log.push(line),
    });
    t.after(() => live.stop());
    assert.match(live.brokerUrl ?? '', /^mqtt:\/\/127\.0\.0\.1:\d+$/);
    const view = live.context.live;
    assert.ok(view, 'the fleet view has a live part');
    const seen = await new Promise<LiveSnapshot>((resolve) => {
      const check = () => {
        const s = view.snapshot();
        if (stationOf(s, 'solo')?.online === true) resolve(s);
      };
      view.onChange(check);
      check();
    });
    assert.equal(stationOf(seen, 'solo')?.role, 'station');
    assert.ok(
      log.some((l) => l.startsWith('Embedded MQTT broker on mqtt://127.0.0.1:')),
      log.join('\n'),
    );
  });
});
