/**
 * The Catalog as a station runs it: its home's package cache and trust store, and every downloaded package
 * opened by the flash service at once, so it appears in the package list. Built by the composition roots
 * (station, desktop, demo) and handed to the API in the service context.
 */
import { loadStationKeys } from '../flash/adapters/package.js';
import type { FlashServiceApi } from '../flash/service-api.js';
import { defaultTrustDirs, loadTrustStore } from '../package/index.js';
import { CatalogService } from '../repo/catalog.js';

export function stationCatalog(home: string, flash: Pick<FlashServiceApi, 'openPackage'>): CatalogService {
  return new CatalogService({
    home,
    trust: () => loadTrustStore({ dirs: defaultTrustDirs({ ...process.env, FLASHLINE_HOME: home }) }),
    decryptionKeys: () => loadStationKeys(home),
    onCached: async (path) => {
      await flash.openPackage(path);
    },
  });
}
