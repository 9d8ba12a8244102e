/**
 * The dashboard's side of the live bus: subscribes to every station of a site (or all sites) and keeps what
 * they last said — station online/offline (the Last Will says when one is lost), devices per station with
 * their job, progress and last result. Every payload is validated; one that does not fit is dropped and
 * counted. Sizes are capped so a noisy or hostile publisher cannot grow memory without bound.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import { openLiveConnection } from './connection.js';
import {
  type DeviceStatePayload,
  deviceStateSchema,
  type ProgressPayload,
  parsePayload,
  progressSchema,
  type ResultPayload,
  resultSchema,
  stationStatusSchema,
} from './payloads.js';
import { dashboardFilter, type ParsedTopic, parseTopic } from './topics.js';

export interface LiveDevice {
  readonly deviceId: string;
  readonly state?: DeviceStatePayload;
  readonly progress?: ProgressPayload;
  readonly lastResult?: ResultPayload;
}

export interface LiveStation {
  readonly site: string;
  readonly station: string;
  /** Unknown until the station's retained status arrives. */
  readonly online: boolean | null;
  readonly role?: string;
  readonly version?: string;
  /** Why offline: `stopped` or `lost` (Last Will). */
  readonly reason?: string;
  /** When this dashboard last heard from the station (its own clock). */
  readonly lastSeen: string;
  readonly devices: readonly LiveDevice[];
}

export interface LiveSnapshot {
  /** Whether the dashboard is connected to its broker right now. */
  readonly connected: boolean;
  readonly broker: string;
  readonly stations: readonly LiveStation[];
  /** Messages dropped because they did not fit the layout or the payload schema. */
  readonly rejected: number;
}

/** What the API reads: a snapshot now, and a signal after each change. */
export interface LiveView {
  snapshot(): LiveSnapshot;
  onChange(listener: () => void): () => void;
}

export interface LiveDashboard extends LiveView {
  /** Resolves after the first connect's subscription is granted (tests and the CLI wait on it). */
  readonly subscribed: Promise<void>;
  stop(): Promise<void>;
}

export const MAX_STATIONS = 500;
export const MAX_DEVICES_PER_STATION = 256;

interface StationEntry {
  site: string;
  station: string;
  online: boolean | null;
  role?: string;
  version?: string;
  reason?: string;
  lastSeen: string;
  devices: Map<
    string,
    { state?: DeviceStatePayload; progress?: ProgressPayload; lastResult?: ResultPayload }
  >;
}

export function startLiveDashboard(options: {
  readonly url: string;
  readonly password?: string | undefined;
  readonly site?: string;
  readonly log: (line: string) => void;
  readonly brokerLabel: string;
}): LiveDashboard {
  const stations = new Map<string, StationEntry>();
  const events = new EventEmitter();
  let rejected = 0;
  const reject = () => {
    rejected += 1;
  };
  const entryFor = (t: ParsedTopic): StationEntry | undefined => {
    const key = `${t.site}/${t.station}`;
    let e = stations.get(key);
    if (!e) {
      if (stations.size >= MAX_STATIONS) return undefined;
      e = { site: t.site, station: t.station, online: null, lastSeen: '', devices: new Map() };
      stations.set(key, e);
    }
    e.lastSeen = new Date().toISOString();
    return e;
  };
  const apply = (topic: string, payload: Buffer): boolean => {
    const t = parseTopic(topic);
    if (!t) return false;
    const station = entryFor(t);
    if (!station) return false;
    if (t.kind === 'status') {
      const s = parsePayload(stationStatusSchema, payload);
      if (!s && payload.length === 0) {
        // An emptied status topic: the station was retired; forget it.
        stations.delete(`${t.site}/${t.station}`);
        return true;
      }
      if (!s) return false;
      station.online = s.state === 'online';
      station.role = s.role;
      if (s.version) station.version = s.version;
      if (s.reason) station.reason = s.reason;
      else delete station.reason;
      // A station gone offline has no progress worth showing; its retained states stay as last known.
      if (!station.online) for (const d of station.devices.values()) delete d.progress;
      return true;
    }
    let device = station.devices.get(t.deviceId);
    if (payload.length === 0) {
      // An empty retained payload clears the port (the device left the station).
      if (t.kind === 'state') station.devices.delete(t.deviceId);
      else if (device) delete device[t.kind === 'result' ? 'lastResult' : 'progress'];
      return true;
    }
    const body =
      t.kind === 'state'
        ? parsePayload(deviceStateSchema, payload)
        : t.kind === 'progress'
          ? parsePayload(progressSchema, payload)
          : parsePayload(resultSchema, payload);
    if (!body || body.deviceId !== t.deviceId) return false;
    if (!device) {
      if (station.devices.size >= MAX_DEVICES_PER_STATION) return false;
      device = {};
      station.devices.set(t.deviceId, device);
    }
    if (t.kind === 'state') {
      device.state = body as DeviceStatePayload;
      if (!device.state.job) delete device.progress;
    } else if (t.kind === 'progress') device.progress = body as ProgressPayload;
    else {
      device.lastResult = body as ResultPayload;
      delete device.progress;
    }
    return true;
  };

  let client: MqttClient | undefined;
  let resolveSubscribed: () => void = () => undefined;
  const subscribed = new Promise<void>((r) => {
    resolveSubscribed = r;
  });
  client = openLiveConnection({
    url: options.url,
    ...(options.password !== undefined ? { password: options.password } : {}),
    purpose: 'fleet dashboard',
    log: options.log,
    clientId: `flashline-dashboard-${randomBytes(4).toString('hex')}`,
    onConnect: (c) => {
      events.emit('change');
      c.subscribe(dashboardFilter(options.site), { qos: 1 }, (err) => {
        if (err) options.log(`fleet dashboard: cannot subscribe: ${err.message}`);
        else resolveSubscribed();
      });
    },
  });
  client.on('message', (topic, payload) => {
    if (!apply(topic, payload)) reject();
    // A rejection changes the snapshot too (its count), so listeners hear of it.
    events.emit('change');
  });
  client.on('close', () => events.emit('change'));

  return {
    subscribed,
    snapshot: () => ({
      connected: client?.connected ?? false,
      broker: options.brokerLabel,
      rejected,
      stations: [...stations.values()]
        .map((s) => ({
          site: s.site,
          station: s.station,
          online: s.online,
          ...(s.role ? { role: s.role } : {}),
          ...(s.version ? { version: s.version } : {}),
          ...(s.reason ? { reason: s.reason } : {}),
          lastSeen: s.lastSeen,
          devices: [...s.devices.entries()]
            .map(([deviceId, d]) => ({ deviceId, ...d }))
            .sort((a, b) => a.deviceId.localeCompare(b.deviceId)),
        }))
        .sort((a, b) => `${a.site}/${a.station}`.localeCompare(`${b.site}/${b.station}`)),
    }),
    onChange(listener) {
      events.on('change', listener);
      return () => events.off('change', listener);
    },
    async stop() {
      events.removeAllListeners();
      await client?.endAsync().catch(() => undefined);
      client = undefined;
    },
  };
}
