/**
 * The fleet view's API: stations (live from the MQTT bus, last seen from the central database), throughput
 * and pass/fail by code, the last failures, and a paginated search across every station's jobs — history
 * always from PostgreSQL (FleetQueries), never from the bus. Each part answers only when configured; an
 * unconfigured part says how to configure it. The fleet view merges live and remembered stations itself.
 */
import { z } from 'zod';
import { FlashlineError } from '../common/errors.js';
import {
  type FleetQueries,
  type FleetStation,
  jobFilterSchema,
  type RolloutPackage,
} from '../fleet/contract.js';
import type { LiveSnapshot } from '../fleet/live/index.js';
import type { OtaLiveSnapshot } from '../fleet/ota-ingest.js';
import type { ServiceContext } from './service.js';
import { procedure, router } from './trpc.js';

export interface FleetOverview {
  readonly live: { readonly configured: boolean; readonly connected: boolean; readonly broker?: string };
  readonly history: { readonly configured: boolean; readonly problem?: string };
  /** Stations the central history knows (merged with the live ones by the fleet view). */
  readonly stations: FleetStation[];
}

/** Devices of the live OTA view passed to the rollout view per request (newest first). */
export const ROLLOUT_LIVE_DEVICES = 100;

/** The rollout view: devices updating over the air (live) and per package from the history. */
export interface FleetRollout {
  /** null: no broker, so no OTA reports are heard. */
  readonly live: OtaLiveSnapshot | null;
  /** null: no fleet database (see `problem` when it failed). */
  readonly packages: RolloutPackage[] | null;
  readonly problem?: string;
}

function queriesOf(ctx: ServiceContext): FleetQueries {
  const queries = ctx.fleet?.queries;
  if (!queries) {
    throw new FlashlineError(
      'unavailable',
      "The fleet history needs the central database: run 'flashline fleet init --db postgres://…' for this station's home and restart it.",
    );
  }
  return queries;
}

const EMPTY_LIVE: LiveSnapshot = { connected: false, broker: '', stations: [], rejected: 0 };
/** Snapshots are coalesced to at most this often per subscriber (progress arrives about once a second). */
const LIVE_COALESCE_MS = 250;

export const fleetRouter = router({
  overview: procedure.query(async ({ ctx }): Promise<FleetOverview> => {
    const live = ctx.fleet?.live?.snapshot();
    let remembered: FleetStation[] = [];
    let problem: string | undefined;
    if (ctx.fleet?.queries) {
      try {
        remembered = await ctx.fleet.queries.stations();
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err);
      }
    }
    return {
      live: live
        ? { configured: true, connected: live.connected, broker: live.broker }
        : { configured: false, connected: false },
      history: { configured: Boolean(ctx.fleet?.queries), ...(problem ? { problem } : {}) },
      stations: remembered,
    };
  }),
  /** The live bus as the dashboard holds it: a snapshot now and after each change. */
  live: procedure.subscription(async function* ({ ctx, signal }) {
    const view = ctx.fleet?.live;
    if (!view) {
      yield EMPTY_LIVE;
      return;
    }
    yield view.snapshot();
    // A flag, not a queue: however many changes arrive while the client reads, it gets one fresh snapshot.
    let dirty = false;
    let wake: (() => void) | undefined;
    const off = view.onChange(() => {
      dirty = true;
      wake?.();
    });
    const onAbort = () => wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      while (!signal?.aborted) {
        if (!dirty) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        if (signal?.aborted) break;
        await new Promise((r) => setTimeout(r, LIVE_COALESCE_MS));
        dirty = false;
        yield view.snapshot();
      }
    } finally {
      off();
      signal?.removeEventListener('abort', onAbort);
    }
  }),
  stats: procedure
    .input(
      z
        .object({
          sinceHours: z
            .number()
            .min(1)
            .max(24 * 31),
          bucketMinutes: z.number().int().min(1).max(1440),
        })
        .strict(),
    )
    .query(({ ctx, input }) =>
      queriesOf(ctx).stats({
        since: new Date(Date.now() - input.sinceHours * 3600_000).toISOString(),
        bucketMinutes: input.bucketMinutes,
      }),
    ),
  lastFailures: procedure
    .input(z.object({ n: z.number().int().min(1).max(100) }).strict())
    .query(({ ctx, input }) => queriesOf(ctx).lastFailures(input.n)),
  /** Jobs of every station matching the filter, newest first; pass `nextCursor` back for older ones. */
  search: procedure
    .input(
      z
        .object({
          filter: jobFilterSchema.strict(),
          cursor: z.string().max(200).nullable().optional(),
          limit: z.number().int().min(1).max(200).optional(),
        })
        .strict(),
    )
    .query(({ ctx, input }) => queriesOf(ctx).searchJobs(input.filter, input.cursor, input.limit ?? 50)),
  /** Per package: devices that have it, are updating, failed by code; stations' jobs with it. */
  rollout: procedure
    .input(z.object({ limit: z.number().int().min(1).max(200) }).strict())
    .query(async ({ ctx, input }): Promise<FleetRollout> => {
      const snapshot = ctx.fleet?.ota?.snapshot();
      // The newest devices only: the view refreshes every 2 s and a fleet may hold thousands.
      const live = snapshot
        ? { ...snapshot, devices: snapshot.devices.slice(0, ROLLOUT_LIVE_DEVICES) }
        : null;
      const rollout = ctx.fleet?.rollout;
      if (!rollout) return { live, packages: null };
      try {
        return { live, packages: await rollout.rollout(input.limit) };
      } catch (err) {
        return { live, packages: null, problem: err instanceof Error ? err.message : String(err) };
      }
    }),
});
