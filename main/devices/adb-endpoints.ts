/**
 * ADB-over-TCP endpoints (`adb:HOST:PORT`, `--adb HOST:PORT`), probed like fastboot TCP endpoints. This
 * computer's ADB key pair lives in `<home>/adb/` (made on first use by the ADB client), so a phone that was
 * told "Always allow from this computer" stays authorized for every Flashline command on it.
 */
import { type AdbConnection, type AdbOpenOptions, defaultAdbKeyDir, openAdb } from '../protocol/adb/index.js';
import type { DeviceInfo } from './device-info.js';
import { type EndpointSourceOptions, endpointSource } from './endpoint-source.js';
import type { AdbEndpoint } from './identify-adb.js';
import type { DeviceSource } from './source.js';

/** How an ADB connection is opened from a device id (main/protocol/adb's `openAdb`; tests pass fakes). */
export type AdbOpener = (id: string, options: AdbOpenOptions) => Promise<AdbConnection>;

export interface AdbEndpointSpec {
  readonly host: string;
  readonly port: number;
}

export interface AdbEndpointOptions {
  /** Default: main/protocol/adb's openAdb. */
  readonly open?: AdbOpener;
  readonly connection?: DeviceInfo['connection'];
  /** Default: `<home>/adb`. */
  readonly keyDir?: string;
}

export function adbEndpoint(spec: AdbEndpointSpec, options: AdbEndpointOptions = {}): AdbEndpoint {
  const { open = openAdb, connection = 'tcp', keyDir = defaultAdbKeyDir() } = options;
  const address = `${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}`;
  const id = `adb:${address}`;
  return {
    kind: 'adb',
    id,
    connection,
    address,
    open: (o) => open(id, { keyDir, ...o }),
  };
}

/** Configured ADB endpoints (`--adb HOST:PORT`, station options). */
export function adbSource(
  specs: readonly AdbEndpointSpec[],
  opts: EndpointSourceOptions & AdbEndpointOptions = {},
): DeviceSource {
  return endpointSource(
    specs.map((s) => adbEndpoint(s, opts)),
    { name: 'adb', ...opts },
  );
}
