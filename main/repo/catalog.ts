/**
 * The Catalog behind the UI: the repositories this station has synced from (their roots are remembered),
 * what each offers, and downloads into the package cache with live progress (the engine's ProgressMeter:
 * bytes-based rate and ETA, about 4 Hz). A download runs in the service, not in the request that started
 * it, so a closed browser tab does not stop it; its outcome is kept for the list.
 */

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { toErrorData } from '../common/errors.js';
import { EventStream } from '../common/event-stream.js';
import { ProgressMeter } from '../flash/progress.js';
import type { StationPrivateKey, TrustStore } from '../package/index.js';
import { type Catalog, fetchCatalog, syncRepository } from './sync.js';

export interface CatalogDownload {
  readonly id: string;
  readonly repoUrl: string;
  readonly name: string;
  readonly state: 'running' | 'done' | 'failed';
  readonly bytesDone: number;
  readonly bytesTotal: number;
  /** Bytes per second, measured. */
  readonly rate: number;
  readonly etaSeconds: number | null;
  /** The cached package, when done. */
  readonly path?: string;
  /** Status code (1x/2x) and what to do, when failed. */
  readonly code?: number | string;
  readonly message?: string;
}

export interface CatalogServiceOptions {
  readonly home: string;
  readonly trust: () => Promise<TrustStore>;
  readonly decryptionKeys: () => Promise<StationPrivateKey[]>;
  /** Called with a package once it is in the cache (the station opens it so it shows in its list). */
  readonly onCached?: (path: string) => Promise<unknown>;
}

const sourceSchema = z.object({ repoUrl: z.string().url() });

export class CatalogService {
  readonly #options: CatalogServiceOptions;
  readonly #downloads = new Map<string, CatalogDownload>();
  readonly #events = new EventStream<CatalogDownload>();

  constructor(options: CatalogServiceOptions) {
    this.#options = options;
  }

  /** Repositories this station trusts already (synced once with their root). */
  async sources(): Promise<string[]> {
    const dir = join(this.#options.home, 'repos');
    const ids = await fs.readdir(dir).catch(() => [] as string[]);
    const urls: string[] = [];
    for (const id of ids.sort()) {
      const text = await fs.readFile(join(dir, id, 'source.json'), 'utf8').catch(() => undefined);
      const parsed = text === undefined ? undefined : sourceSchema.safeParse(JSON.parse(text));
      if (parsed?.success) urls.push(parsed.data.repoUrl);
    }
    return urls;
  }

  catalog(repoUrl: string): Promise<Catalog> {
    return fetchCatalog({ repoUrl, home: this.#options.home });
  }

  list(): CatalogDownload[] {
    return [...this.#downloads.values()];
  }

  /** Start bringing one package into the cache; progress and the outcome arrive as events. */
  start(repoUrl: string, name: string): CatalogDownload {
    const running = this.list().find(
      (d) => d.repoUrl === repoUrl && d.name === name && d.state === 'running',
    );
    if (running) return running;
    const id = randomBytes(6).toString('hex');
    let current: CatalogDownload = {
      id,
      repoUrl,
      name,
      state: 'running',
      bytesDone: 0,
      bytesTotal: 0,
      rate: 0,
      etaSeconds: null,
    };
    const update = (patch: Partial<CatalogDownload>) => {
      current = { ...current, ...patch };
      this.#downloads.set(id, current);
      this.#events.emit(current);
    };
    update({});
    let meter: ProgressMeter | undefined;
    void (async () => {
      try {
        const result = await syncRepository({
          repoUrl,
          home: this.#options.home,
          names: [name],
          trust: await this.#options.trust(),
          decryptionKeys: await this.#options.decryptionKeys(),
          onProgress: (p) => {
            if (meter) return meter.set(p.bytesDone);
            meter = new ProgressMeter(id, repoUrl, (e) =>
              update({ bytesDone: e.bytesDone, bytesTotal: e.bytesTotal, rate: e.rate, etaSeconds: e.eta }),
            );
            meter.begin('download', p.bytesTotal, p.bytesDone);
          },
        });
        const synced = result.packages[0];
        if (!synced) throw new Error(`${name} is not in the repository any more.`);
        await this.#options.onCached?.(synced.path);
        const length = result.catalog.entries.find((e) => e.name === name)?.length ?? current.bytesTotal;
        update({ state: 'done', path: synced.path, bytesDone: length, bytesTotal: length, etaSeconds: 0 });
      } catch (err) {
        const data = toErrorData(err);
        update({ state: 'failed', code: data.code, message: data.message, etaSeconds: null });
      }
    })();
    return current;
  }

  async *events(signal?: AbortSignal): AsyncGenerator<CatalogDownload> {
    yield* this.#events.events(signal);
  }
}
