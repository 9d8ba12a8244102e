/**
 * Identify a fastboot device: a handful of getvars, each bounded, the whole bounded too. Variables the
 * device does not know (FAIL) are simply absent. Runs per device, so one slow device never delays others.
 */
import { FastbootClient, FastbootFailError, normalizeSlot } from '../protocol/fastboot/index.js';
import type { PacketLink } from '../transport/index.js';
import type { DeviceInfo } from './device-info.js';
import { IDENTIFY_TIMEOUT_MS } from './source.js';

export { IDENTIFY_TIMEOUT_MS } from './source.js';

const PER_VAR_TIMEOUT_MS = 2000;

export type Identity = Pick<
  DeviceInfo,
  'product' | 'serial' | 'hardwareRevision' | 'currentSlot' | 'version' | 'rollbackIndex'
>;

export async function identifyFastboot(
  link: PacketLink,
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Identity> {
  const client = new FastbootClient(link, { responseTimeoutMs: PER_VAR_TIMEOUT_MS });
  const deadline = AbortSignal.timeout(opts.timeoutMs ?? IDENTIFY_TIMEOUT_MS);
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
  const get = async (name: string): Promise<string | undefined> => {
    try {
      const v = (await client.getvar(name, { signal })).trim();
      return v.length > 0 ? v : undefined;
    } catch (err) {
      if (err instanceof FastbootFailError) return undefined;
      throw err;
    }
  };
  const product = await get('product');
  const serial = await get('serialno');
  const slot = await get('current-slot');
  const version = (await get('running-version')) ?? (await get('version-bootloader'));
  const rollback = await get('rollback-index');
  const hw = await get('hw-revision');
  const currentSlot = slot ? normalizeSlot(slot) : undefined;
  const rollbackIndex = rollback && /^\d+$/.test(rollback) ? Number(rollback) : undefined;
  return {
    ...(product ? { product } : {}),
    ...(serial ? { serial } : {}),
    ...(currentSlot ? { currentSlot } : {}),
    ...(version ? { version } : {}),
    ...(rollbackIndex !== undefined && Number.isSafeInteger(rollbackIndex) ? { rollbackIndex } : {}),
    ...(hw ? { hardwareRevision: hw } : {}),
  };
}

/** A one-line reason for the UI from any identification failure. */
export function describeFailure(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What every probe starts from: the endpoint's listing fields, and its bound (time limit + caller's signal). */
export function probeStart(
  endpoint: Pick<DeviceInfo, 'id' | 'connection' | 'address'>,
  timeoutMs: number,
  signal?: AbortSignal,
): { base: Pick<DeviceInfo, 'id' | 'connection' | 'address'>; bound: AbortSignal } {
  const deadline = AbortSignal.timeout(timeoutMs);
  return {
    base: { id: endpoint.id, connection: endpoint.connection, address: endpoint.address },
    bound: signal ? AbortSignal.any([signal, deadline]) : deadline,
  };
}
