/**
 * The station composition root: builds the service, serves it, and reports where.
 * Used by `flashline station`, `flashline demo` and the desktop fallback.
 */
import type { ServiceContext } from '../api/service.js';
import { FlashlineError } from '../common/errors.js';
import { FLASHLINE_VERSION } from '../common/version.js';
import { DeviceRegistry } from '../devices/registry.js';
import { ensureRendererBuilt } from './renderer-assets.js';
import { isLoopback, type Station, startStation } from './server.js';

export interface RunStationOptions {
  readonly host: string;
  readonly port: number;
  readonly allowRemote: boolean;
  readonly token?: string;
  readonly log: (line: string) => void;
  readonly service?: ServiceContext;
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
  if (!isLoopback(host) && !allowRemote) {
    throw new FlashlineError(
      'bad_input',
      `Refusing to bind ${host}: it is not a loopback address. Add --allow-remote to serve other machines (the token is still required).`,
    );
  }
}

export async function runStation(options: RunStationOptions): Promise<Station> {
  assertBindAllowed(options.host, options.allowRemote);
  if (!isLoopback(options.host)) {
    options.log(
      `WARNING: serving on ${options.host}, reachable from other machines. Anyone with the URL's token can flash devices; use only on a trusted factory network.`,
    );
  }
  const staticDir = await ensureRendererBuilt(options.log);
  const service = options.service ?? createService();
  try {
    return await startStation({
      host: options.host,
      port: options.port,
      staticDir,
      service,
      ...(options.token ? { token: options.token } : {}),
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
