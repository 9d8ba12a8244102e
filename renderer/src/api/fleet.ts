/**
 * The fleet view's data shaping, pure functions (unit-tested): live and remembered stations as one list,
 * the stats' buckets as units/hour per station for the chart, and the search form as a JobFilter.
 */
import type { FleetStation, FleetStats, JobFilter, LiveSnapshot } from '../../../main/api/types.js';

export interface StationRow {
  readonly site: string;
  readonly station: string;
  /** null: the live bus has not said. */
  readonly online: boolean | null;
  readonly reason?: string | undefined;
  readonly role?: string | undefined;
  readonly devices: number;
  readonly busy: number;
  readonly lastJobAt: string | null;
  readonly jobs24h: number | null;
  /** When the database last heard from the station (its last shipment, server clock); null: never. */
  readonly lastSyncAt: string | null;
}

/** One row per site/station: what the bus says now beside what the database remembers. */
export function stationRows(live: LiveSnapshot | null, remembered: readonly FleetStation[]): StationRow[] {
  const rows = new Map<string, StationRow>();
  for (const s of remembered) {
    rows.set(`${s.site}/${s.station}`, {
      site: s.site,
      station: s.station,
      online: null,
      devices: 0,
      busy: 0,
      lastJobAt: s.lastJobAt,
      jobs24h: s.jobs24h,
      lastSyncAt: s.lastSyncAt,
    });
  }
  for (const s of live?.stations ?? []) {
    const key = `${s.site}/${s.station}`;
    const known = rows.get(key);
    const present = s.devices.filter((d) => d.state && d.state.state !== 'gone');
    rows.set(key, {
      site: s.site,
      station: s.station,
      online: s.online,
      reason: s.reason,
      role: s.role,
      devices: present.length,
      busy: present.filter((d) => d.state?.job).length,
      lastJobAt: known?.lastJobAt ?? null,
      jobs24h: known?.jobs24h ?? null,
      lastSyncAt: known?.lastSyncAt ?? null,
    });
  }
  return [...rows.values()].sort((a, b) => `${a.site}/${a.station}`.localeCompare(`${b.site}/${b.station}`));
}

export interface ThroughputSeries {
  /** Bucket starts, seconds since the epoch (uPlot's x). */
  readonly times: number[];
  /** Station labels, one per series, in the order of `values`. */
  readonly stations: string[];
  /** Units per hour per station per bucket; null where the station finished nothing in that bucket. */
  readonly values: (number | null)[][];
}

/** The stats' buckets as units/hour per station, on a shared, gap-free time axis. */
export function throughput(
  stats: FleetStats,
  bucketMinutes: number,
  sinceMs: number,
  nowMs: number,
): ThroughputSeries {
  const width = bucketMinutes * 60_000;
  const first = Math.floor(sinceMs / width) * width;
  const times: number[] = [];
  for (let t = first; t <= nowMs; t += width) times.push(t / 1000);
  const stations = [...new Set(stats.buckets.map((b) => `${b.site}/${b.station}`))].sort();
  const perHour = 60 / bucketMinutes;
  const values = stations.map(() => times.map((): number | null => 0));
  for (const b of stats.buckets) {
    const i = Math.round((Date.parse(b.bucketStart) - first) / width);
    const s = stations.indexOf(`${b.site}/${b.station}`);
    const row = values[s];
    if (row && i >= 0 && i < times.length) row[i] = b.units * perHour;
  }
  return { times, stations, values };
}

export const SINCE_CHOICES = ['1h', 'today', '24h', '7d', '30d'] as const;
export type SinceChoice = (typeof SINCE_CHOICES)[number];

/** The start of a "since" choice; `today` is local midnight (the technician's day). */
export function sinceTime(choice: SinceChoice, now: Date): Date {
  if (choice === 'today') return new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const hours = { '1h': 1, '24h': 24, '7d': 24 * 7, '30d': 24 * 30 }[choice];
  return new Date(now.getTime() - hours * 3600_000);
}

export interface SearchForm {
  readonly text: string;
  readonly product: string;
  /** '' any, `ok`, `failed`, a decade `4x` or a code `42`. */
  readonly status: string;
  readonly station: string;
  readonly since: SinceChoice;
}

export const EMPTY_SEARCH: SearchForm = { text: '', product: '', status: '', station: '', since: 'today' };

/** The form as the API's filter; empty fields are left out. */
export function searchFilter(form: SearchForm, now: Date): JobFilter {
  const trimmed = (v: string) => v.trim() || undefined;
  const filter: Record<string, string> = { since: sinceTime(form.since, now).toISOString() };
  for (const [key, value] of [
    ['text', trimmed(form.text)],
    ['product', trimmed(form.product)],
    ['status', trimmed(form.status)],
    ['station', trimmed(form.station)],
  ] as const) {
    if (value) filter[key] = value;
  }
  return filter as JobFilter;
}
