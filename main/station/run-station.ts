/**
 * The station composition root: builds the service, serves it, and reports where.
 * Used by `flashline station`, `flashline demo` and the desktop fallback.
 */
import type { ServiceContext } from '../api/service.js';
import { FlashlineError } from '../common/errors.js';
import { FLASHLINE_VERSION } from '../common/version.js';
import { DeviceRegistry } from '../devices/registry.js';
import { defaultPackageFolders } from './package-folders.js';
import { ensureRendererBuilt } from './renderer-assets.js';
import { acceptedHostNames, isLoopbackHost } from './request-guard.js';
import { type Station, startStation } from './server.js';
import { loadTls, type StationTls, selfSignedTls } from './tls.js';

export interface RunStationOptions {
  readonly host: string;
  readonly port: number;
  readonly allowRemote: boolean;
  readonly token?: string;
  readonly log: (line: string) => void;
  readonly service?: ServiceContext;
  /** Extra host names the station answers to (`--allow-host`). */
  readonly allowHosts?: readonly string[];
  /** `--tls-cert` / `--tls-key`; without them a remote station makes and keeps a self-signed certificate. */
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  /** `--packages`: the only folders packages may be opened from (see package-folders.ts). */
  readonly packageFolders?: readonly string[];
  /** `--max-upload`, in bytes. */
  readonly maxUploadBytes?: number;
}

export function createService(overrides: Partial<ServiceContext> = {}): ServiceContext {
  return {
    version: FLASHLINE_VERSION,
    mode: 'station',
    devices: new DeviceRegistry(),
    demo: false,
    ...overrides,
  };
}

/** Throws unless `host` is loopback or remote serving was asked for explicitly. */
export function assertBindAllowed(host: string, allowRemote: boolean): void {
  if (!isLoopbackHost(host) && !allowRemote) {
    throw new FlashlineError(
      'bad_input',
      `Refusing to bind ${host}: it is not a loopback address. Add --allow-remote to serve other machines (the token is still required).`,
    );
  }
}

/**
 * The certificate to serve: the one given; with --allow-remote (even on a loopback address, e.g. behind a
 * tunnel) the kept self-signed one; none for a plain loopback station.
 */
async function stationTls(options: RunStationOptions): Promise<StationTls | undefined> {
  if (Boolean(options.tlsCert) !== Boolean(options.tlsKey)) {
    throw new FlashlineError('bad_input', 'Give both --tls-cert FILE and --tls-key FILE, or neither.');
  }
  if (options.tlsCert && options.tlsKey) return loadTls(options.tlsCert, options.tlsKey);
  if (!options.allowRemote && isLoopbackHost(options.host)) return undefined;
  return selfSignedTls(
    acceptedHostNames({
      boundAddress: options.host,
      port: options.port,
      scheme: 'https',
      ...(options.allowHosts ? { allowHosts: options.allowHosts } : {}),
    }),
  );
}

export async function runStation(options: RunStationOptions): Promise<Station> {
  assertBindAllowed(options.host, options.allowRemote);
  if (!isLoopbackHost(options.host)) {
    options.log(
      `WARNING: serving on ${options.host}, reachable from other machines. Anyone with the URL's token can flash devices; use only on a trusted factory network.`,
    );
  }
  const tls = await stationTls(options);
  if (tls) options.log(`HTTPS certificate: ${tls.source} (SHA-256 fingerprint ${tls.fingerprint})`);
  // --allow-remote limits package paths even on a loopback address (e.g. reached through a tunnel).
  const packageFolders = options.packageFolders?.length
    ? options.packageFolders
    : options.allowRemote
      ? defaultPackageFolders()
      : undefined;
  if (packageFolders) options.log(`Packages are opened only from: ${packageFolders.join(', ')}`);
  const staticDir = await ensureRendererBuilt(options.log);
  const service = options.service ?? createService();
  try {
    return await startStation({
      host: options.host,
      port: options.port,
      staticDir,
      service,
      ...(options.token ? { token: options.token } : {}),
      ...(tls ? { tls } : {}),
      ...(options.allowHosts?.length ? { allowHosts: options.allowHosts } : {}),
      ...(packageFolders ? { packageFolders } : {}),
      ...(options.maxUploadBytes !== undefined ? { uploadLimitBytes: options.maxUploadBytes } : {}),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new FlashlineError(
        'port_in_use',
        `Port ${options.port} on ${options.host} is already in use. Pick another with --port.`,
      );
    }
    if (code === 'EADDRNOTAVAIL') {
      throw new FlashlineError('bad_input', `Address ${options.host} is not an address of this machine.`);
    }
    throw err;
  }
}
