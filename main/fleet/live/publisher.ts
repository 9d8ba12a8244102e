/**
 * The station's side of the live bus: retained per-device state and results (QoS 1), throttled progress
 * (QoS 0), a retained station status with a Last Will "offline". It reads the device registry and the job
 * events through a small port and keeps only the current state (one entry per connected device), so memory
 * follows the number of devices, not uptime. The bus is a view of now: history comes from the store.
 */
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { DeviceEvent, DeviceInfo } from '../../devices/device-info.js';
import type { JobEvent } from '../../flash/events.js';
import { openLiveConnection } from './connection.js';
import type { DeviceStatePayload, ProgressPayload, ResultPayload, StationStatus } from './payloads.js';
import { deviceTopic, parseTopic, type StationAddress, stationStatusTopic } from './topics.js';

/** What the publisher reads; the composition roots pass the registry and the job manager. */
export interface LiveSources {
  readonly devices: {
    list(): readonly DeviceInfo[];
    subscribe(listener: (e: DeviceEvent) => void): () => void;
  };
  readonly jobs: { subscribe(listener: (e: JobEvent) => void): () => void };
}

export interface LivePublisherOptions {
  readonly url: string;
  readonly password?: string | undefined;
  readonly address: StationAddress;
  readonly role: 'station' | 'line';
  readonly version: string;
  readonly sources: LiveSources;
  readonly log: (line: string) => void;
  /** At most one progress message per job this often (ms), plus each stage's first and last. Default 1000. */
  readonly progressIntervalMs?: number;
  readonly now?: () => number;
}

export interface LivePublisher {
  /** Resolves once the broker has acknowledged the first "online" status (tests and logs wait on it). */
  readonly ready: Promise<void>;
  /** Says "offline (stopped)" — retained — and disconnects. */
  stop(): Promise<void>;
}

const DEFAULT_PROGRESS_MS = 1000;

export function startLivePublisher(options: LivePublisherOptions): LivePublisher {
  const { address } = options;
  const now = options.now ?? Date.now;
  const interval = options.progressIntervalMs ?? DEFAULT_PROGRESS_MS;
  const iso = () => new Date(now()).toISOString();
  const statusTopic = stationStatusTopic(address);
  const status = (s: Omit<StationStatus, 'v' | 'role' | 'version'>): string =>
    JSON.stringify({ v: 1, role: options.role, version: options.version, ...s } satisfies StationStatus);

  const devices = new Map<string, DeviceStatePayload>();
  const results = new Map<string, ResultPayload>();
  const lastProgress = new Map<string, { at: number; stage: string }>();
  let client: MqttClient | undefined;
  let resolveReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => {
    resolveReady = r;
  });

  const send = (topic: string, body: object | null, qos: 0 | 1, retain: boolean) => {
    // Nothing is queued while disconnected: every connect republishes the current state.
    if (!client?.connected) return;
    client.publish(topic, body === null ? '' : JSON.stringify(body), { qos, retain });
  };
  const publishDevice = (id: string) => {
    const state = devices.get(id);
    send(deviceTopic(address, id, 'state'), state ?? null, 1, true);
  };
  const forget = (id: string) => {
    devices.delete(id);
    results.delete(id);
    send(deviceTopic(address, id, 'state'), null, 1, true);
    send(deviceTopic(address, id, 'result'), null, 1, true);
  };
  const fromInfo = (d: DeviceInfo): DeviceStatePayload => {
    const job = devices.get(d.id)?.job;
    return {
      v: 1,
      deviceId: d.id,
      mode: d.mode,
      state: d.state,
      ...(d.serial ? { serial: d.serial } : {}),
      ...(d.product ? { product: d.product } : {}),
      ...(job && d.state === 'busy' ? { job } : {}),
      at: iso(),
    };
  };
  const onDevice = (e: DeviceEvent) => {
    if (e.type === 'removed') return forget(e.id);
    devices.set(e.device.id, fromInfo(e.device));
    publishDevice(e.device.id);
  };
  const onJob = (e: JobEvent) => {
    if (e.type === 'message') return;
    const state = devices.get(e.deviceId);
    if (e.type === 'stage') {
      if (state) {
        devices.set(e.deviceId, { ...state, job: { jobId: e.jobId, stage: e.stage }, at: iso() });
        publishDevice(e.deviceId);
      }
      return;
    }
    if (e.type === 'progress') {
      const last = lastProgress.get(e.jobId);
      const t = now();
      const edge = !last || last.stage !== e.stage || e.bytesDone >= e.bytesTotal;
      if (!edge && t - last.at < interval) return;
      lastProgress.set(e.jobId, { at: t, stage: e.stage });
      const body: ProgressPayload = {
        v: 1,
        jobId: e.jobId,
        deviceId: e.deviceId,
        stage: e.stage,
        bytesDone: e.bytesDone,
        bytesTotal: e.bytesTotal,
        rate: Math.max(0, e.rate),
        eta: e.eta === null ? null : Math.max(0, e.eta),
        at: new Date(t).toISOString(),
      };
      send(deviceTopic(address, e.deviceId, 'progress'), body, 0, false);
      return;
    }
    lastProgress.delete(e.jobId);
    const r = e.report;
    const result: ResultPayload = {
      v: 1,
      jobId: e.jobId,
      deviceId: e.deviceId,
      ...(r.device.serial ? { serial: r.device.serial } : {}),
      ...(r.device.product ? { product: r.device.product } : {}),
      status: e.status,
      statusName: r.statusName,
      package: { id: r.package.id, version: r.package.version },
      endedAt: r.endedAt,
    };
    // Kept only while the device is known: a removed device's port is cleared.
    if (devices.has(e.deviceId)) results.set(e.deviceId, result);
    send(deviceTopic(address, e.deviceId, 'result'), result, 1, true);
    if (state?.job) {
      const { job: _done, ...rest } = state;
      devices.set(e.deviceId, { ...rest, at: iso() });
      publishDevice(e.deviceId);
    }
  };

  for (const d of options.sources.devices.list()) devices.set(d.id, fromInfo(d));
  const unsubscribeDevices = options.sources.devices.subscribe(onDevice);
  const unsubscribeJobs = options.sources.jobs.subscribe(onJob);

  const ownPrefix = `${statusTopic.slice(0, -'status'.length)}`;
  client = openLiveConnection({
    url: options.url,
    ...(options.password !== undefined ? { password: options.password } : {}),
    purpose: 'live bus',
    log: options.log,
    clientId: `flashline-${address.site}-${address.station}-${randomBytes(4).toString('hex')}`,
    will: {
      topic: statusTopic,
      payload: Buffer.from(status({ state: 'offline', reason: 'lost', at: iso() })),
      qos: 1,
      retain: true,
    },
    onConnect: (c) => {
      c.publish(statusTopic, status({ state: 'online', at: iso() }), { qos: 1, retain: true }, (err) => {
        if (!err) resolveReady();
      });
      for (const id of devices.keys()) publishDevice(id);
      for (const [id, result] of results) send(deviceTopic(address, id, 'result'), result, 1, true);
      // Ports this station left retained in an earlier run (a crash, a unit pulled while the broker was
      // away) are cleared as the broker replays them; the subscription ends with the station.
      c.subscribe([`${ownPrefix}+/state`, `${ownPrefix}+/result`], { qos: 1 });
    },
  });
  client.on('message', (topic, payload, packet) => {
    const parsed = parseTopic(topic);
    if (!packet.retain || payload.length === 0 || !parsed || parsed.kind === 'status') return;
    if (parsed.site !== address.site || parsed.station !== address.station) return;
    if (!devices.has(parsed.deviceId)) send(topic, null, 1, true);
  });

  return {
    ready,
    async stop() {
      unsubscribeDevices();
      unsubscribeJobs();
      const c = client;
      if (!c) return;
      if (c.connected) {
        await c
          .publishAsync(statusTopic, status({ state: 'offline', reason: 'stopped', at: iso() }), {
            qos: 1,
            retain: true,
          })
          .catch(() => undefined);
      }
      await c.endAsync().catch(() => undefined);
    },
  };
}
