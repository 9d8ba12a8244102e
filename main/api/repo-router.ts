/**
 * The Catalog's API: which update repositories this station trusts, what they offer (with the products of
 * the devices it sees, so the screen can show those first), downloads into the package cache with live
 * progress. A downloaded package is opened by the flash service at once, so it appears in the package
 * list — the path comes from the station's own cache, never from the client.
 */
import { z } from 'zod';
import { FlashlineError } from '../common/errors.js';
import type { ServiceContext } from './service.js';
import { procedure, router } from './trpc.js';

function catalogOf(ctx: ServiceContext): NonNullable<ServiceContext['catalog']> {
  if (!ctx.catalog)
    throw new FlashlineError(
      'unavailable',
      'The Catalog is not available in this session. Start Flashline as a station or the desktop app.',
    );
  return ctx.catalog;
}

const repoUrl = z.url({ protocol: /^https?$/ }).max(2048);
const targetName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.flp$/, 'a package file name (.flp)');

/** Products of the devices the station sees now (the Catalog lists their packages first). */
function seenProducts(ctx: ServiceContext): string[] {
  const products = ctx.devices.list().flatMap((d) => (d.product ? [d.product] : []));
  return [...new Set(products)].sort();
}

export const repoRouter = router({
  /** Repositories this station has synced from once (`flashline sync --repo URL --root root.json`). */
  sources: procedure.query(({ ctx }) => catalogOf(ctx).sources()),
  /** Refresh a repository's signed metadata and list its packages; refusals come back as 1x/2x errors. */
  catalog: procedure.input(z.object({ repoUrl }).strict()).mutation(async ({ ctx, input }) => ({
    ...(await catalogOf(ctx).catalog(input.repoUrl)),
    seenProducts: seenProducts(ctx),
  })),
  /** Start downloading one package into the cache (returns at once; follow `events`). */
  download: procedure
    .input(z.object({ repoUrl, name: targetName }).strict())
    .mutation(({ ctx, input }) => catalogOf(ctx).start(input.repoUrl, input.name)),
  downloads: procedure.query(({ ctx }) => catalogOf(ctx).list()),
  /** Download progress (about 4 Hz, with MB/s and ETA) and outcomes. */
  events: procedure.subscription(async function* ({ ctx, signal }) {
    yield* catalogOf(ctx).events(signal);
  }),
});
