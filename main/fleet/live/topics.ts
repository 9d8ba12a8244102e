/**
 * The live bus's topic layout: `flashline/<site>/<station>/status` (retained station status, the Last Will
 * says "offline"), and per device port `flashline/<site>/<station>/<port>/{state,progress,result}`.
 * A device id becomes one topic level by percent-encoding the characters MQTT gives a meaning (`/`, `+`, `#`)
 * and `%` itself, so `serial:/dev/ttyUSB0` stays one level and decodes back exactly.
 */
export const LIVE_ROOT = 'flashline';

/** Site and station names: one readable topic level, the same rule `fleet init` applies. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export const DEVICE_LEAVES = ['state', 'progress', 'result'] as const;
export type DeviceLeaf = (typeof DEVICE_LEAVES)[number];

export interface StationAddress {
  readonly site: string;
  readonly station: string;
}

export function encodePort(deviceId: string): string {
  return deviceId.replace(/[%/+#]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function decodePort(level: string): string {
  return level.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

export function stationStatusTopic(a: StationAddress): string {
  return `${LIVE_ROOT}/${a.site}/${a.station}/status`;
}

export function deviceTopic(a: StationAddress, deviceId: string, leaf: DeviceLeaf): string {
  return `${LIVE_ROOT}/${a.site}/${a.station}/${encodePort(deviceId)}/${leaf}`;
}

/** What the dashboard subscribes to: every station of one site, or of all sites. */
export function dashboardFilter(site?: string): string {
  return `${LIVE_ROOT}/${site ?? '+'}/#`;
}

export type ParsedTopic =
  | { readonly kind: 'status'; readonly site: string; readonly station: string }
  | {
      readonly kind: DeviceLeaf;
      readonly site: string;
      readonly station: string;
      readonly deviceId: string;
    };

/** The topic's parts, or null for a topic outside the layout (ignored, never trusted). */
export function parseTopic(topic: string): ParsedTopic | null {
  const levels = topic.split('/');
  if (levels[0] !== LIVE_ROOT) return null;
  const [, site, station] = levels;
  if (!site || !station || !NAME_PATTERN.test(site) || !NAME_PATTERN.test(station)) return null;
  if (levels.length === 4 && levels[3] === 'status') return { kind: 'status', site, station };
  const port = levels[3];
  const leaf = levels[4] as DeviceLeaf | undefined;
  if (levels.length === 5 && port && leaf && (DEVICE_LEAVES as readonly string[]).includes(leaf)) {
    return { kind: leaf, site, station, deviceId: decodePort(port) };
  }
  return null;
}
