/**
 * ADB-over-TCP endpoints (`adb:HOST:PORT`, `--adb HOST:PORT`), probed like fastboot TCP endpoints. This
 * computer's ADB key pair lives in `<home>/adb/` (made on first use by the ADB client), so a phone that was
 * told "Always allow from this computer" stays authorized for every Flashline command on it.
 */
import { type AdbConnection, type AdbOpenOptions, defaultAdbKeyDir, openAdb } from '../protocol/adb/index.js';
import type { DeviceInfo } from './device-info.js';
import { type Endpoint, type EndpointSourceOptions, endpointSource } from './endpoint-source.js';
import type { AdbEndpoint } from './identify-adb.js';
import type { DeviceSource } from './source.js';
import { tcpEndpoint } from './transport-sources.js';

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

/**
 * Both ways into one device on a host: its fastboot TCP port and, for a phone, its ADB port (0 or absent:
 * none). Virtual devices (demo, tests) and a configured phone are watched this way; the registry makes them
 * one unit by serial.
 */
export function tcpUnitEndpoints(
  device: { readonly host: string; readonly port: number; readonly adbPort?: number },
  connection: 'tcp' | 'virtual' = 'tcp',
  options: Omit<AdbEndpointOptions, 'connection'> = {},
): Endpoint[] {
  const fastboot = tcpEndpoint({ host: device.host, port: device.port }, connection);
  if (!device.adbPort) return [fastboot];
  return [fastboot, adbEndpoint({ host: device.host, port: device.adbPort }, { ...options, connection })];
}
