/**
 * Qualcomm EDL over real USB, inside the VM: the gadget plays a bricked Qualcomm device (profile qualcomm-edl,
 * `05c6:9008`, interface ff/ff/ff). Debian's `qdl` programs it from a vendor-style rescue folder (Sahara
 * programmer upload, Firehose program + patch + setbootablestoragedrive + power reset), and the content is
 * checked by the device's own SHA-256 (Firehose getsha256digest, asked by Flashline over the same USB link).
 * Then Flashline rescues it from a second folder (same layout, new content) over its USB EDL transport, and
 * `flashline backup --device usb:SERIAL` (the real command, bundled) reads a partition back byte-identical.
 * The qdl and Flashline rescues of the same folder layout give the throughput comparison (bench/edl.ts).
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  applyRescuePlan,
  type EdlSession,
  planRescue,
  startEdlSession,
} from '../../../main/protocol/firehose/index.js';
import { buildSimulatedProgrammer } from '../../../main/protocol/sahara/index.js';
import { openStreamLink } from '../../../main/transport/open-stream.js';
import { classifyUsbDevice } from '../../../main/transport/usb.js';
import { findEdlInterface } from '../../../main/transport/usb-edl.js';
import type { UsbBackend, UsbDeviceLike } from '../../../main/transport/usb-types.js';
import { makePackage } from './engine-steps.js';
import { type GadgetProcess, startGadget, stopGadget } from './gadget-process.js';

const run = promisify(execFile);
export const EDL_SERIAL = 'FLEDL0001';
const PROGRAMMER = 'prog_firehose.elf';
const EDL_UDC = '/sys/kernel/config/usb_gadget/flashline-edl/UDC';

type Step = (name: string, fn: () => Promise<Record<string, unknown>>) => Promise<boolean>;

interface Partition {
  label: string;
  firstLba: number;
  lastLba: number;
}
interface Ready {
  oemPkHash: string;
  saharaSerial: number;
  sectorSize: number;
  partitions: Partition[];
}

/** What a rescue folder writes, per partition: the bytes the device should hold afterwards. */
interface Folder {
  dir: string;
  bytes: number;
  expected: Map<string, Buffer>;
}

/** Sizes below the partitions (8 MiB system, 4 MiB userdata…); boot is not a whole number of sectors. */
const IMAGE_SIZES: Record<string, number> = {
  xbl: 200 * 1024,
  boot: 2 * 1024 * 1024 - 1000,
  system: 8 * 1024 * 1024,
  userdata: 4 * 1024 * 1024,
};
/** qdl's and our patch: a 4-byte marker at byte 16 of userdata's first sector (decimal, as vendors write). */
const PATCH = { label: 'userdata', byteOffset: 16, value: 0x12345678 };

/** A vendor-style rescue folder for the gadget's layout: programmer, images, rawprogram0.xml, patch0.xml. */
async function makeRescueFolder(dir: string, ready: Ready): Promise<Folder> {
  await mkdir(dir, { recursive: true });
  const ss = ready.sectorSize;
  await writeFile(
    join(dir, PROGRAMMER),
    buildSimulatedProgrammer(Buffer.from(ready.oemPkHash, 'hex'), 'x'.repeat(100_000)),
  );
  const expected = new Map<string, Buffer>();
  const programs: string[] = [];
  let bytes = 0;
  for (const [label, size] of Object.entries(IMAGE_SIZES)) {
    const part = ready.partitions.find((p) => p.label === label);
    if (!part) throw new Error(`the gadget has no partition ${label}`);
    const image = randomBytes(size);
    await writeFile(join(dir, `${label}.img`), image);
    bytes += size;
    const sectors = part.lastLba - part.firstLba + 1;
    // Firehose writes whole sectors: the last one zero-padded; the rest of the partition is not touched.
    expected.set(label, Buffer.concat([image, Buffer.alloc(Math.ceil(size / ss) * ss - size)]));
    programs.push(
      `  <program SECTOR_SIZE_IN_BYTES="${ss}" file_sector_offset="0" filename="${label}.img" label="${label}" ` +
        `num_partition_sectors="${sectors}" physical_partition_number="0" start_sector="${part.firstLba}" />`,
    );
  }
  await writeFile(
    join(dir, 'rawprogram0.xml'),
    `<?xml version="1.0" ?>\n<data>\n${programs.join('\n')}\n</data>\n`,
  );
  const target = ready.partitions.find((p) => p.label === PATCH.label)!;
  await writeFile(
    join(dir, 'patch0.xml'),
    `<?xml version="1.0" ?>\n<patches>\n  <patch SECTOR_SIZE_IN_BYTES="${ss}" byte_offset="${PATCH.byteOffset}" ` +
      `filename="DISK" physical_partition_number="0" size_in_bytes="4" start_sector="${target.firstLba}" ` +
      `value="${PATCH.value}" what="usb test marker" />\n</patches>\n`,
  );
  expected.get(PATCH.label)!.writeUInt32LE(PATCH.value, PATCH.byteOffset);
  return { dir, bytes, expected };
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const mbps = (bytes: number, ms: number): number => Math.round((bytes / 1e6 / (ms / 1000)) * 100) / 100;

/** The EDL device as WebUSB sees it (polls: it re-enumerates after every reset). */
async function waitForEdl(backend: UsbBackend, timeoutMs: number): Promise<UsbDeviceLike> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const devices = await backend.getDevices().catch(() => []);
    for (const d of devices) {
      try {
        if (d.serialNumber === EDL_SERIAL && findEdlInterface(d)) return d;
      } catch {
        // still listed while it leaves the bus: its descriptors cannot be read; not there yet
      }
    }
    await sleep(200);
  }
  throw new Error(`no USB device ${EDL_SERIAL} with the EDL interface after ${timeoutMs} ms`);
}

/** After a reset: the device leaves the bus, then comes back (re-enumerates) in its ROM. */
async function afterReset(backend: UsbBackend): Promise<void> {
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    const devices = await backend.getDevices().catch(() => []);
    if (!devices.some((d) => d.serialNumber === EDL_SERIAL)) break;
    await sleep(100);
  }
  await waitForEdl(backend, 60_000);
}

/** Sahara (programmer upload), then Firehose configured, over Flashline's USB EDL transport. */
async function flashlineSession(backend: UsbBackend, programmer: string): Promise<EdlSession> {
  await waitForEdl(backend, 60_000);
  const link = await openStreamLink(`usb:${EDL_SERIAL}`, { usb: backend, timeoutMs: 30_000 });
  try {
    return await startEdlSession(link, { programmer, storage: 'ufs' });
  } catch (err) {
    await link.close();
    throw err;
  }
}

/** Device-side SHA-256 of every programmed range, compared with what the folder should have left there. */
async function checkDeviceHashes(session: EdlSession, ready: Ready, folder: Folder): Promise<string[]> {
  const checked: string[] = [];
  for (const [label, want] of folder.expected) {
    const part = ready.partitions.find((p) => p.label === label)!;
    const range = {
      sectorSize: ready.sectorSize,
      physicalPartition: 0,
      startSector: part.firstLba,
      numSectors: want.byteLength / ready.sectorSize,
    };
    const got = await session.firehose.sha256(range);
    if (got !== sha256(want))
      throw new Error(`${label}: the device-side SHA-256 differs from the folder's image`);
    checked.push(label);
  }
  return checked;
}

/** The last `session-end` report of the gadget after `from` lines: what the device saw of a host. */
function lastSessionEnd(g: GadgetProcess, from: number): Record<string, unknown> | undefined {
  for (const line of g.lines.slice(from).reverse()) {
    try {
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (msg.gadget === 'session-end') return msg;
    } catch {
      // not a report line
    }
  }
  return undefined;
}

export async function edlSteps(step: Step, backend: UsbBackend): Promise<void> {
  const gadget = startGadget({ profile: 'qualcomm-edl' });
  let ready: Ready | undefined;
  try {
    await step('edl-gadget', async () => {
      await gadget.ready;
      const line = gadget.lines.find((l) => l.includes('"gadget":"ready"'));
      ready = JSON.parse(line ?? '{}') as Ready;
      return { sectorSize: ready.sectorSize, partitions: ready.partitions.map((p) => p.label) };
    });
    if (!ready) return;
    const r = ready;
    await step('webusb-edl', async () => {
      const d = await waitForEdl(backend, 30_000);
      const alt = d.configurations[0]?.interfaces[0]?.alternates[0];
      return {
        vendorId: d.vendorId,
        productId: d.productId,
        serial: d.serialNumber,
        mode: classifyUsbDevice(d),
        interfaceClass: alt ? [alt.interfaceClass, alt.interfaceSubclass, alt.interfaceProtocol] : [],
        endpoints: alt?.endpoints.map((e) => `${e.direction}:${e.type}:${e.packetSize}`),
      };
    });

    // Discovery as shipped (`flashline devices`): mode edl and the id `backup`/`rescue --device` take.
    await step('devices-edl', async () => {
      const res = await run(
        process.execPath,
        ['/app/flashline.mjs', 'devices', '--json', '--no-list-serial'],
        {
          timeout: 120_000,
        },
      );
      const listed = (JSON.parse(res.stdout) as { devices: { id: string; mode: string; address?: string }[] })
        .devices;
      const edl = listed.find((d) => d.mode === 'edl');
      if (!edl) throw new Error(`flashline devices listed no EDL device: ${res.stdout.slice(0, 800)}`);
      return { id: edl.id, mode: edl.mode, address: edl.address };
    });

    const qdlFolder = await makeRescueFolder('/tmp/edl-rescue-qdl', r);
    await step('qdl-rescue', async () => {
      const from = gadget.lines.length;
      const t0 = performance.now();
      const out = await run('qdl', ['--storage', 'ufs', PROGRAMMER, 'rawprogram0.xml', 'patch0.xml'], {
        cwd: qdlFolder.dir,
        timeout: 900_000,
        maxBuffer: 16 << 20,
      }).catch((err: { code?: number; stdout?: string; stderr?: string; message: string }) => {
        throw new Error(
          `qdl exited ${err.code}: ${`${err.stdout ?? ''}${err.stderr ?? err.message}`.slice(-1500)}`,
        );
      });
      const ms = performance.now() - t0;
      const text = `${out.stdout}${out.stderr}`;
      console.log(`qdl said: ${text.trim().split('\n').slice(-12).join(' | ')}`);
      // qdl reports each partition's rate in whole-second resolution: "flashed "system" successfully at NkB/s".
      const rates = [...text.matchAll(/flashed "(\w+)" successfully(?: at (\d+)kB\/s)?/g)].map((m) => ({
        label: m[1],
        kBps: m[2] ? Number(m[2]) : null,
      }));
      if (rates.length !== Object.keys(IMAGE_SIZES).length)
        throw new Error(`qdl flashed ${rates.length} partitions: ${text.slice(-800)}`);
      await afterReset(backend); // the device's report of the session comes as it resets
      const session = lastSessionEnd(gadget, from);
      return {
        bytes: qdlFolder.bytes,
        ms: Math.round(ms),
        mbPerS: mbps(qdlFolder.bytes, ms),
        qdlRates: rates,
        deviceReads: session?.deviceReads,
        zlps: session?.zlps,
        deviceHistory: session?.history,
      };
    });

    await step('qdl-device-hash', async () => {
      const session = await flashlineSession(backend, join(qdlFolder.dir, PROGRAMMER));
      try {
        const checked = await checkDeviceHashes(session, r, qdlFolder);
        await session.firehose.reset();
        await afterReset(backend);
        return { checked, identity: session.identity?.serialNumber };
      } finally {
        await session.firehose.link.close();
      }
    });

    const ourFolder = await makeRescueFolder('/tmp/edl-rescue-flashline', r);
    await step('flashline-rescue', async () => {
      const from = gadget.lines.length;
      const t0 = performance.now();
      const session = await flashlineSession(backend, join(ourFolder.dir, PROGRAMMER));
      try {
        const plan = planRescue(
          [{ name: 'rawprogram0.xml', text: await readFile(join(ourFolder.dir, 'rawprogram0.xml'), 'utf8') }],
          [{ name: 'patch0.xml', text: await readFile(join(ourFolder.dir, 'patch0.xml'), 'utf8') }],
        );
        const files = async (name: string) => {
          const path = join(ourFolder.dir, name);
          const { size } = await stat(path);
          return { size, open: (start: number) => createReadStream(path, { start }) };
        };
        const p0 = performance.now();
        // What `flashline rescue` does after verifying its package (main/flash/rescue/run.ts), from the folder.
        await applyRescuePlan(session.firehose, plan, files);
        const programMs = performance.now() - p0;
        const checkStart = performance.now();
        const checked = await checkDeviceHashes(session, r, ourFolder);
        const checkMs = performance.now() - checkStart;
        await session.firehose.reset();
        // The whole rescue as qdl does it (Sahara to the reset ACK), without our extra hash check.
        const ms = performance.now() - t0 - checkMs;
        await afterReset(backend);
        const end = lastSessionEnd(gadget, from);
        return {
          bytes: ourFolder.bytes,
          ms: Math.round(ms),
          mbPerS: mbps(ourFolder.bytes, ms),
          programMbPerS: mbps(ourFolder.bytes, programMs),
          checked,
          deviceReads: end?.deviceReads,
          zlps: end?.zlps,
          deviceHistory: end?.history,
        };
      } finally {
        await session.firehose.link.close();
      }
    });

    await step('flashline-backup', async () => {
      await waitForEdl(backend, 60_000);
      const out = '/tmp/edl-system.bak';
      const t0 = performance.now();
      const res = await run(
        process.execPath,
        [
          '/app/flashline.mjs',
          'backup',
          '--device',
          `usb:${EDL_SERIAL}`,
          '--programmer',
          join(ourFolder.dir, PROGRAMMER),
          '--storage',
          'ufs',
          '--partition',
          'system',
          '--out',
          out,
        ],
        { timeout: 600_000, maxBuffer: 16 << 20 },
      ).catch((err: { code?: number; stdout?: string; stderr?: string; message: string }) => {
        throw new Error(
          `flashline backup exited ${err.code}: ${`${err.stdout ?? ''}${err.stderr ?? err.message}`.slice(-1500)}`,
        );
      });
      const ms = performance.now() - t0;
      const back = await readFile(out);
      const want = ourFolder.expected.get('system')!;
      if (!back.equals(want))
        throw new Error(`the backup (${back.byteLength} bytes) differs from the programmed system image`);
      return { bytes: back.byteLength, mbPerS: mbps(back.byteLength, ms), said: res.stdout.trim() };
    });

    // A cable pull mid-program: the write fails promptly and typed (no hang); plugged back, the device is in
    // its ROM again (it lost power) and answers Sahara.
    await step('edl-cable-pull', async () => {
      const programmer = join(ourFolder.dir, PROGRAMMER);
      const session = await flashlineSession(backend, programmer);
      const system = r.partitions.find((p) => p.label === 'system')!;
      const image = ourFolder.expected.get('system')!;
      const pullAt = Math.floor(image.byteLength / 3);
      let pulled = false;
      const source = (async function* () {
        for (let at = 0; at < image.byteLength; at += 256 * 1024) {
          if (!pulled && at >= pullAt) {
            pulled = true;
            await writeFile(EDL_UDC, '\n');
          }
          yield image.subarray(at, at + 256 * 1024);
        }
      })();
      const t0 = performance.now();
      let error = '';
      try {
        await session.firehose.program(
          {
            sectorSize: r.sectorSize,
            physicalPartition: 0,
            startSector: system.firstLba,
            numSectors: image.byteLength / r.sectorSize,
          },
          image.byteLength,
          source,
        );
      } catch (err) {
        error = `${(err as Error).name}: ${(err as Error).message}`;
      } finally {
        await session.firehose.link.close();
      }
      const failMs = Math.round(performance.now() - t0);
      await sleep(500);
      await writeFile(EDL_UDC, 'dummy_udc.0');
      if (!pulled) throw new Error(`the program stopped before the pull point (${error})`);
      if (!error) throw new Error('the program succeeded although the gadget was unbound mid-transfer');
      const again = await flashlineSession(backend, programmer);
      try {
        const identity = again.identity?.serialNumber;
        if (identity === undefined) throw new Error('after the replug the device did not start in its ROM');
        await again.firehose.reset();
        return { pulledAtBytes: pullAt, error, failMs, identityAfter: identity };
      } finally {
        await again.firehose.link.close();
      }
    });

    // The product path: a signed rescue package (make-rescue-dir → pack → rescue), over USB. After the reset
    // the device boots from what was written and comes back as a fastboot device (its own gadget, the Sahara
    // serial in hex); the rescue's postcheck identifies it there, and a normal flash then ends 0. Last: the
    // EDL device is gone afterwards.
    await step('flashline-rescue-package', async () => {
      const home = '/tmp/flashline-home-rescue';
      const cli = (args: string[]) =>
        run(process.execPath, ['/app/flashline.mjs', ...args], {
          env: { ...process.env, FLASHLINE_HOME: home },
          timeout: 600_000,
          maxBuffer: 16 << 20,
        }).catch((err: { code?: number; stdout?: string; stderr?: string; message: string }) => {
          throw new Error(
            `flashline ${args[0]} exited ${err.code}: ${`${err.stdout ?? ''}${err.stderr ?? err.message}`.slice(-1500)}`,
          );
        });
      await cli(['virtual-device', 'make-rescue-dir', '--out', '/tmp/rescue-dir', '--storage', 'ufs']);
      await cli([
        'pack',
        '--from-qualcomm-dir',
        '/tmp/rescue-dir',
        '--product',
        'flashline-virtual',
        '--version',
        '1.0.0',
        '--key',
        '/resources/demo/demo-signing.key',
        '--out',
        '/tmp/rescue.flp',
      ]);
      await waitForEdl(backend, 60_000);
      const back = `usb:${r.saharaSerial.toString(16).padStart(8, '0')}`;
      const t0 = performance.now();
      const res = await cli([
        'rescue',
        '/tmp/rescue.flp',
        '--device',
        `usb:${EDL_SERIAL}`,
        '--come-back',
        back,
        '--json',
      ]);
      const ms = Math.round(performance.now() - t0);
      const report = JSON.parse(res.stdout) as {
        status: number;
        cameBackAs?: string;
        postcheck?: string;
        stages: { stage: string }[];
      };
      if (report.status !== 0) throw new Error(`rescue ended ${report.status}: ${res.stdout.slice(0, 1500)}`);
      const flashed = await cli(['flash', await makePackage('/tmp', '2.0.0', 2), '--device', back]);
      return {
        status: report.status,
        cameBackAs: report.cameBackAs,
        postcheck: report.postcheck,
        stages: report.stages.map((s) => s.stage),
        ms,
        flashSaid: flashed.stdout.trim().split('\n').slice(-2).join(' | '),
      };
    });
  } finally {
    await stopGadget(gadget);
  }
}
