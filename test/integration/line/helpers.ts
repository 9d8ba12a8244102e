/** Shared set-up for the `flashline line` tests: free ports, units (virtual devices) on them, the CLI child. */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DEMO_PARTITIONS } from '../../../main/cli/commands/demo.js';
import {
  DEMO_SIGNING_KEY_PATH,
  generateKeyPair,
  loadSigningPrivateKey,
  loadStationPublicKey,
  packPackage,
  writeKeyPair,
} from '../../../main/package/index.js';
import {
  type Faults,
  makeVirtualImage,
  startVirtualDevice,
  type VirtualDeviceHandle,
} from '../../../virtual-device/index.js';

const bin = fileURLToPath(new URL('../../../bin/flashline.js', import.meta.url));
const MiB = 1024 * 1024;

/** Ports nobody listens on right now (the kernel picks them), for units started later. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen({ host: '127.0.0.1', port: 0 }, () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** A unit on a fixed port with a state directory that survives its restarts. */
export function startUnit(
  dir: string,
  port: number,
  serial: string,
  faults?: Faults,
): Promise<VirtualDeviceHandle> {
  return startVirtualDevice({
    serial,
    stateDir: join(dir, serial),
    tcp: { host: '127.0.0.1', port },
    partitions: DEMO_PARTITIONS,
    maxDownloadSize: 512 * 1024,
    bootDelayMs: 200,
    ...(faults ? { faults } : {}),
  });
}

export interface LineChild {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** Every stdout line so far. */
  readonly lines: string[];
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exit: Promise<number | null>;
  onLine(listener: (line: string) => void): void;
}

export function spawnFlashline(args: readonly string[], home: string): LineChild {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, FLASHLINE_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const listeners: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const l of listeners) l(line);
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, stderr: () => err, exit, onLine: (l) => listeners.push(l) };
}

/** A station key pair under `dir`; returns the private key file and its key id. */
export async function makeStationKey(dir: string, name: string): Promise<{ key: string; keyId: string }> {
  const pair = generateKeyPair({ kind: 'station' });
  const { key } = await writeKeyPair(join(dir, name), pair);
  return { key, keyId: pair.keyId };
}

/** The demo package (demo key, virtual product), encrypted to the station key `<base>.pub`. */
export async function makeEncryptedPackage(outPath: string, stationKeyBase: string): Promise<string> {
  const version = '2.0.0';
  const rollbackIndex = 2;
  await packPackage({
    outPath,
    products: ['flashline-virtual'],
    version,
    rollbackIndex,
    expectedVersion: version,
    keys: [await loadSigningPrivateKey(DEMO_SIGNING_KEY_PATH)],
    encryptTo: [await loadStationPublicKey(`${stationKeyBase}.pub`)],
    images: [
      { partition: 'boot', source: makeVirtualImage({ version, rollbackIndex, size: MiB }), size: MiB },
      {
        partition: 'system',
        source: makeVirtualImage({ version, rollbackIndex, size: 2 * MiB, seed: 'system-enc' }),
        size: 2 * MiB,
      },
    ],
  });
  return outPath;
}
