/**
 * One look at the repository: TUF metadata refreshed by the host's repository client (tuf-js behind
 * fetchCatalog: root chain, versions, expiry, signatures, lengths; refusals mapped to 10/21/23/25/26/28),
 * then the newest package for this device's product that is newer than what it runs and not below its
 * rollback index. The trusted metadata (and the root, after the first poll) lives on the device's storage.
 */

import { compareVersions } from '../../main/package/manifest.js';
import { type CatalogEntry, fetchCatalog } from '../../main/repo/sync.js';

export interface Update {
  readonly entry: CatalogEntry;
  /** The consistent-snapshot URL of the target file. */
  readonly url: string;
}

export interface DeviceNow {
  readonly product: string;
  readonly runningVersion: string;
  readonly rollbackIndex: number;
}

export async function findUpdate(
  repo: { url: string; root: string; home: string },
  device: DeviceNow,
  declined: readonly string[],
): Promise<Update | { none: string }> {
  const catalog = await fetchCatalog({ repoUrl: repo.url, rootFile: repo.root, home: repo.home });
  const candidates = catalog.entries
    .filter(
      (e) =>
        e.package.products.includes(device.product) &&
        e.package.rollbackIndex >= device.rollbackIndex &&
        compareVersions(e.package.version, device.runningVersion) > 0,
    )
    .sort(
      (a, b) =>
        b.package.rollbackIndex - a.package.rollbackIndex ||
        compareVersions(b.package.version, a.package.version),
    );
  const entry = candidates.find((e) => !declined.includes(e.sha256));
  if (!entry) {
    return {
      none:
        candidates.length > 0
          ? `the newer package(s) failed their postcheck on this device before; waiting for a newer one`
          : `no package for ${device.product} newer than ${device.runningVersion} in ${catalog.repoUrl}`,
    };
  }
  return { entry, url: `${catalog.repoUrl}/targets/${entry.sha256}.${entry.name}` };
}
