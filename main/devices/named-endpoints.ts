/**
 * Devices named by id on a command line (`flashline flash --device …`): each is identified once, and ids
 * that answer with the same serial are grouped as one unit, so `--device adb:H:PA --device tcp:H:PF`
 * flashes one phone through both of its ways in.
 */
import { openLink, parseDeviceId } from '../transport/index.js';
import { type AdbOpener, adbEndpoint } from './adb-endpoints.js';
import type { DeviceInfo } from './device-info.js';
import { describeId, type Endpoint, type FastbootEndpoint, probeAnyEndpoint } from './endpoint-source.js';
import { isSilent } from './units.js';

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
 * resumes). An id that answers nothing joins the unit when exactly one unit answered (the phone's other
 * way in, e.g. its fastboot port while it runs Android); otherwise it stays a job of its own, as before.
 * @returns the targets, and one line per id that joined a unit without answering (to tell the user)
 */
export function groupBySerial(infos: readonly DeviceInfo[]): {
  targets: FlashTarget[];
  joined: string[];
} {
  const units = new Map<string, string[]>();
  for (const d of infos)
    if (d.serial && !isSilent(d)) units.set(d.serial, [...(units.get(d.serial) ?? []), d.id]);
  const only = units.size === 1 ? [...units.entries()][0] : undefined;
  const joined: string[] = [];
  const targets: FlashTarget[] = [];
  const placed = new Set<string>();
  for (const d of infos) {
    if (placed.has(d.id)) continue;
    const unit = d.serial ? units.get(d.serial) : undefined;
    if (unit) {
      const members = only && only[1] === unit ? [...unit, ...silentOnes(infos, placed, unit)] : unit;
      if (members.length > unit.length)
        joined.push(
          ...members
            .slice(unit.length)
            .map(
              (id) =>
                `${id} does not answer now; taken as another way into ${d.serial} (the only device that answered)`,
            ),
        );
      for (const m of members) placed.add(m);
      const ordered = infos.map((i) => i.id).filter((id) => members.includes(id));
      targets.push(ordered.length === 1 ? ordered[0]! : ordered);
    } else if (!(only && isSilent(d))) {
      placed.add(d.id);
      targets.push(d.id);
    }
  }
  return { targets, joined };
}

function silentOnes(
  infos: readonly DeviceInfo[],
  placed: ReadonlySet<string>,
  unit: readonly string[],
): string[] {
  return infos.filter((d) => isSilent(d) && !placed.has(d.id) && !unit.includes(d.id)).map((d) => d.id);
}
