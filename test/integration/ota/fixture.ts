/**
 * An OTA world on loopback: a signed repository (repo init/add/publish) served by `repo serve`'s own server,
 * holding a newer package for the device's product (a bootable virtual boot image + a system image), a
 * publisher trust directory, and devices whose OTA agent polls it. Reports are collected from a real broker
 * (mosquitto, started and stopped by PID) by a subscriber that validates them with the contract's decoder.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import {
  generateKeyPair,
  loadSigningPrivateKey,
  loadStationPublicKey,
  loadTrustStore,
  packPackage,
  writeKeyPair,
} from '../../../main/package/index.js';
import { decodeOtaReport, type OtaReport, otaReportFilter } from '../../../main/protocol/ota/report.js';
import { addPackage, initRepository, publish } from '../../../main/repo/repository.js';
import { type RepoServer, serveRepository } from '../../../main/repo/serve.js';
import { publicDir, shippedRootPath } from '../../../main/repo/state.js';
import {
  makeVirtualImage,
  type OtaAgentOptions,
  startVirtualDevice,
  type VirtualDeviceHandle,
  type VirtualDeviceOptions,
} from '../../../virtual-device/index.js';

export const PRODUCT = 'ota-phone';
const MiB = 1024 * 1024;

export const PARTITIONS = [
  { name: 'boot', size: 4 * MiB, slotted: true },
  { name: 'system', size: 8 * MiB, slotted: true },
  { name: 'userdata', size: 4 * MiB, slotted: false },
];

export interface OtaWorld {
  readonly dir: string;
  readonly repoDir: string;
  readonly server: RepoServer;
  readonly trustDir: string;
  readonly stationKey: string;
  readonly version: string;
  /** The images the package carries, for comparing slot contents. */
  readonly images: { boot: Buffer; system: Buffer };
  readonly targetName: string;
  /** Publish another package version (same system image); returns its boot image. */
  publishVersion(version: string, rollbackIndex: number): Promise<Buffer>;
  targetFile(): Promise<string>;
  agentOptions(extra?: Partial<OtaAgentOptions>): OtaAgentOptions;
  startDevice(options?: VirtualDeviceOptions): Promise<VirtualDeviceHandle>;
  close(): Promise<void>;
}

async function streamToBuffer(s: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

export async function makeOtaWorld(
  options: { encrypted?: boolean; version?: string; systemBytes?: number; blockSize?: number } = {},
): Promise<OtaWorld> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'flashline-ota-'));
  const trustDir = join(dir, 'trust');
  await fs.mkdir(trustDir);
  const signer = await writeKeyPair(join(dir, 'signer'), generateKeyPair({ products: [PRODUCT] }));
  await fs.copyFile(signer.pub, join(trustDir, 'signer.pub'));
  const station = await writeKeyPair(join(dir, 'station'), generateKeyPair({ kind: 'station' }));
  const version = options.version ?? '2.0.0';
  const system = randomBytes(options.systemBytes ?? 2 * MiB + 12345);
  await fs.writeFile(join(dir, 'system.img'), system);
  const repoDir = join(dir, 'repo');
  await initRepository(repoDir);
  /** Pack a package of `v` (boot image says `v`) and publish it; returns its boot image. */
  const publishVersion = async (v: string, rollbackIndex: number): Promise<Buffer> => {
    const bootImage = await streamToBuffer(makeVirtualImage({ version: v, rollbackIndex, size: 300_000 }));
    await fs.writeFile(join(dir, `boot-${v}.img`), bootImage);
    const pkg = join(dir, `${PRODUCT}-${v}.flp`);
    await packPackage({
      outPath: pkg,
      products: [PRODUCT],
      version: v,
      rollbackIndex,
      images: [
        { partition: 'boot', source: join(dir, `boot-${v}.img`) },
        { partition: 'system', source: join(dir, 'system.img') },
      ],
      keys: [await loadSigningPrivateKey(signer.key)],
      blockSize: options.blockSize ?? 64 * 1024,
      ...(options.encrypted ? { encryptTo: [await loadStationPublicKey(station.pub)] } : {}),
    });
    await addPackage(repoDir, pkg, await loadTrustStore({ dirs: [trustDir] }));
    await publish(repoDir);
    return bootImage;
  };
  const boot = await publishVersion(version, 1);
  const targetName = `${PRODUCT}-${version}.flp`;
  const server = await serveRepository(repoDir);
  const devices: VirtualDeviceHandle[] = [];
  const world: OtaWorld = {
    dir,
    repoDir,
    server,
    trustDir,
    stationKey: station.key,
    version,
    images: { boot, system },
    targetName,
    publishVersion,
    async targetFile() {
      const names = await fs.readdir(join(publicDir(repoDir), 'targets'));
      const name = names.find((n) => n.endsWith(`.${targetName}`));
      if (!name) throw new Error('target file missing');
      return join(publicDir(repoDir), 'targets', name);
    },
    agentOptions: (extra = {}) => ({
      url: server.url,
      root: shippedRootPath(repoDir),
      trust: [trustDir],
      manual: true,
      ...(options.encrypted ? { decryptionKeys: [station.key] } : {}),
      ...extra,
    }),
    async startDevice(deviceOptions = {}) {
      const d = await startVirtualDevice({
        product: PRODUCT,
        tcp: false,
        bootDelayMs: 10,
        partitions: PARTITIONS,
        ota: world.agentOptions(),
        ...deviceOptions,
      });
      devices.push(d);
      return d;
    },
    async close() {
      await Promise.all(devices.map((d) => d.stop().catch(() => {})));
      await server.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
  return world;
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** SHA-256 of a partition file of a device (empty string when absent). */
export async function partitionSha(d: VirtualDeviceHandle, name: string): Promise<string> {
  const bytes = await fs.readFile(d.device.store.partitionPath(name)).catch(() => Buffer.alloc(0));
  return sha256(bytes);
}

/** A subscriber on the broker that validates every OTA report with the contract's decoder. */
export interface ReportCollector {
  readonly reports: OtaReport[];
  readonly rejected: string[];
  /** Resolves once a report matches. */
  waitFor(match: (r: OtaReport) => boolean): Promise<OtaReport>;
  close(): Promise<void>;
}

export async function collectReports(url: string): Promise<ReportCollector> {
  const client: MqttClient = await mqtt.connectAsync(url, {
    clientId: `ota-test-${process.pid}`,
    clean: true,
  });
  await client.subscribeAsync(otaReportFilter(), { qos: 1 });
  const reports: OtaReport[] = [];
  const rejected: string[] = [];
  const waiters: { match: (r: OtaReport) => boolean; resolve: (r: OtaReport) => void }[] = [];
  client.on('message', (topic, payload) => {
    const d = decodeOtaReport(topic, payload);
    if (!d.ok) {
      rejected.push(d.why);
      return;
    }
    reports.push(d.report);
    for (const w of [...waiters])
      if (w.match(d.report)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(d.report);
      }
  });
  return {
    reports,
    rejected,
    waitFor: (match) =>
      new Promise((resolve) => {
        const found = reports.find(match);
        if (found) resolve(found);
        else waiters.push({ match, resolve });
      }),
    close: () => client.endAsync(),
  };
}

/** An in-memory broker (aedes) on loopback that records every OTA report published to it, decoded. */
export interface RecordingBroker {
  readonly port: number;
  readonly reports: OtaReport[];
  readonly rejected: string[];
  until(match: (r: OtaReport) => boolean): Promise<void>;
  stop(): Promise<void>;
}

export async function startBroker(port: number): Promise<RecordingBroker> {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const reports: OtaReport[] = [];
  const rejected: string[] = [];
  const waiters = new Set<() => void>();
  broker.on('publish', (packet, client) => {
    if (!client) return; // the broker's own $SYS messages
    const d = decodeOtaReport(packet.topic, packet.payload as Buffer);
    if (d.ok) reports.push(d.report);
    else rejected.push(d.why);
    for (const w of waiters) w();
  });
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port }, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    reports,
    rejected,
    until: (match) =>
      new Promise((resolve) => {
        const check = () => {
          if (!reports.some(match)) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
    async stop() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
