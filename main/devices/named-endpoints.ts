/**
 * Devices named by id on a command line (`flashline flash --device …`): each is identified once, and ids
 * that answer with the same serial are grouped as one unit, so `--device adb:H:PA --device tcp:H:PF`
 * flashes one phone through both of its ways in.
 */
import { openLink, parseDeviceId } from '../transport/index.js';
import { type AdbOpener, adbEndpoint } from './adb-endpoints.js';
import type { DeviceInfo } from './device-info.js';
import { describeId, type Endpoint, type FastbootEndpoint, probeAnyEndpoint } from './endpoint-source.js';
import { candidatesFor, isSilent } from './units.js';

/** The endpoint a device id names; undefined for USB ids (one id already covers every USB interface). */
export function endpointForId(id: string, adbOpen?: AdbOpener): Endpoint | undefined {
  const named = parseDeviceId(id);
  if (named.kind === 'adb')
    return adbEndpoint({ host: named.host, port: named.port }, adbOpen ? { open: adbOpen } : {});
  if (named.kind !== 'tcp' && named.kind !== 'serial') return undefined;
  const { connection, address } = describeId(id);
  const endpoint: FastbootEndpoint = { id, connection, address, open: (signal) => openLink(id, { signal }) };
  return endpoint;
}

/** Identify every id at once (each bounded); ids without a probe (USB) come back as they are named. */
export async function identifyIds(
  ids: readonly string[],
  timeoutMs: number,
  options: { signal?: AbortSignal; adbOpen?: AdbOpener } = {},
): Promise<DeviceInfo[]> {
  return Promise.all(
    ids.map((id) => {
      const endpoint = endpointForId(id, options.adbOpen);
      if (endpoint) return probeAnyEndpoint(endpoint, timeoutMs, options.signal);
      return { id, connection: 'usb', address: id, mode: 'unknown', state: 'identifying' } as const;
    }),
  );
}

/** One job's target: a lone id, or the ids of one unit (first = the job's device id). */
export type FlashTarget = string | readonly string[];

/**
 * Group identified ids into jobs, keeping the order they were named in. Ids that report the same serial
 * are one unit, its ids in the order named (so a job stopped and run again has the same device id and
 * resumes). An id that answers nothing joins a unit when it can only be that unit's other way in (same
 * host, the other protocol, the adjacent port when there is one: units.ts#candidatesFor) — e.g. the fastboot
 * port of a phone that runs Android; otherwise it stays a job of its own, as before.
 * @returns the targets, and one line per id that joined a unit without answering (to tell the user)
 */
export function groupBySerial(infos: readonly DeviceInfo[]): {
  targets: FlashTarget[];
  joined: string[];
} {
  const units = new Map<string, DeviceInfo[]>();
  for (const d of infos)
    if (d.serial && !isSilent(d)) units.set(d.serial, [...(units.get(d.serial) ?? []), d]);
  // Which units each silent id may belong to; it joins only when that is exactly one.
  const claims = new Map<string, string[]>();
  for (const [serial, unit] of units)
    for (const c of candidatesFor(unit, infos)) claims.set(c.id, [...(claims.get(c.id) ?? []), serial]);
  const joinedTo = (id: string) => {
    const serials = claims.get(id);
    return serials?.length === 1 ? serials[0] : undefined;
  };
  const joined: string[] = [];
  const targets: FlashTarget[] = [];
  const placed = new Set<string>();
  for (const d of infos) {
    if (placed.has(d.id)) continue;
    const serial = d.serial && units.has(d.serial) ? d.serial : joinedTo(d.id);
    if (serial === undefined) {
      placed.add(d.id);
      targets.push(d.id);
      continue;
    }
    const members = infos.filter((i) => (i.serial === serial && !isSilent(i)) || joinedTo(i.id) === serial);
    for (const m of members) {
      placed.add(m.id);
      if (isSilent(m))
        joined.push(
          `${m.id} does not answer now; taken as another way into ${serial} (same host, the other protocol)`,
        );
    }
    targets.push(members.length === 1 ? members[0]!.id : members.map((m) => m.id));
  }
  return { targets, joined };
}
