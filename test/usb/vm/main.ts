/**
 * The test program run inside the USB VM (bundled to /app/vm-main.mjs). Each step prints one
 * `FLASHLINE-USB-RESULT {json}` line with `ok` and its measurements; test/usb/usb-vm.test.ts asserts on them.
 * Steps go on after a failure where they can, so one run shows as much as possible.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { open, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { FastbootSession } from '../../../main/flash/adapters/fastboot.js';
import { flashPlannedImage } from '../../../main/flash/send-pieces.js';
import { FastbootClient } from '../../../main/protocol/fastboot/client.js';
import { loadNodeUsbBackend, openUsb, type UsbLinkOptions } from '../../../main/transport/usb.js';
import type { UsbBackend, UsbDeviceLike } from '../../../main/transport/usb-types.js';
import { DEFAULT_GADGET } from '../../../virtual-device/usb-gadget/serve.js';
import { adbSteps } from './adb-steps.js';
import { edlSteps } from './edl-steps.js';
import { engineSteps } from './engine-steps.js';
import { startGadget, stopGadget } from './gadget-process.js';

const run = promisify(execFile);
const GADGET_UDC = '/sys/kernel/config/usb_gadget/flashline/UDC';
const IMAGE_MIB = Number(process.env.USB_IMAGE_MIB ?? '8');
const SERIAL = DEFAULT_GADGET.serial;
let failures = 0;

function report(step: string, ok: boolean, data: Record<string, unknown> = {}): void {
  if (!ok) failures++;
  console.log(`FLASHLINE-USB-RESULT ${JSON.stringify({ step, ok, ...data })}`);
}

async function step(name: string, fn: () => Promise<Record<string, unknown>>): Promise<boolean> {
  const t0 = performance.now();
  try {
    const data = await fn();
    report(name, true, { ms: Math.round(performance.now() - t0), ...data });
    return true;
  } catch (err) {
    report(name, false, {
      ms: Math.round(performance.now() - t0),
      error: err instanceof Error ? err.message : String(err),
    });
    return false;
  }
}

const mbps = (bytes: number, ms: number): number => Math.round((bytes / 1e6 / (ms / 1000)) * 100) / 100;

async function sha256File(path: string, length: number): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { start: 0, end: length - 1 })) h.update(c as Buffer);
  return h.digest('hex');
}

async function writeImage(path: string, bytes: number): Promise<string> {
  const fh = await open(path, 'w');
  const h = createHash('sha256');
  try {
    for (let done = 0; done < bytes; ) {
      const chunk = randomBytes(Math.min(1 << 20, bytes - done));
      h.update(chunk);
      await fh.write(chunk);
      done += chunk.byteLength;
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

async function findSysfsDevice(timeoutMs: number): Promise<string> {
  const want = [DEFAULT_GADGET.vendorId, DEFAULT_GADGET.productId].map((n) =>
    n.toString(16).padStart(4, '0'),
  );
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    for (const d of await readdir('/sys/bus/usb/devices').catch(() => [])) {
      const dir = join('/sys/bus/usb/devices', d);
      const v = await readFile(join(dir, 'idVendor'), 'utf8').catch(() => '');
      const p = await readFile(join(dir, 'idProduct'), 'utf8').catch(() => '');
      if (v.trim() === want[0] && p.trim() === want[1]) return dir;
    }
    await sleep(100);
  }
  throw new Error(`no ${want.join(':')} device under /sys/bus/usb/devices after ${timeoutMs} ms`);
}

async function findWebUsb(backend: UsbBackend, timeoutMs: number): Promise<UsbDeviceLike> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const dev = (await backend.getDevices()).find((d) => d.serialNumber === SERIAL);
    if (dev) return dev;
    await sleep(100);
  }
  throw new Error(`WebUSB getDevices() has no device with serial ${SERIAL} after ${timeoutMs} ms`);
}

async function main(): Promise<void> {
  report('node', true, { versions: process.versions });
  // USB_STEPS=edl: only the Qualcomm EDL steps (bench/edl.ts, and quicker runs by hand).
  if (process.env.USB_STEPS === 'edl') return edlSteps(step, await loadNodeUsbBackend());
  const gadget = startGadget();
  let stateDir = '';
  const gadgetOk = await step('gadget', async () => {
    const r = await gadget.ready;
    stateDir = r.stateDir;
    return { udc: r.udc };
  });
  if (!gadgetOk) return;

  await step('sysfs', async () => {
    const dir = await findSysfsDevice(30_000);
    const read = async (f: string) => (await readFile(join(dir, f), 'utf8')).trim();
    const bus = Number(await read('busnum'));
    const dev = Number(await read('devnum'));
    const node = `/dev/bus/usb/${String(bus).padStart(3, '0')}/${String(dev).padStart(3, '0')}`;
    if (!existsSync(node)) throw new Error(`${node} does not exist (devtmpfs)`);
    return { dir, node, serial: await read('serial'), speed: await read('speed') };
  });

  const backend = await loadNodeUsbBackend();
  await step('webusb', async () => {
    const d = await findWebUsb(backend, 30_000);
    const alt = d.configurations[0]?.interfaces[0]?.alternates[0];
    const cls = alt ? [alt.interfaceClass, alt.interfaceSubclass, alt.interfaceProtocol] : [];
    if (cls.join(',') !== '255,66,3') throw new Error(`interface class is ${cls.join(',')}, not 255,66,3`);
    return {
      vendorId: d.vendorId,
      productId: d.productId,
      serial: d.serialNumber,
      interfaceClass: cls,
      endpoints: alt?.endpoints.map((e) => `${e.direction}:${e.type}:${e.packetSize}`),
    };
  });

  const imageBytes = IMAGE_MIB * 1024 * 1024;
  const image = '/tmp/usb-image.bin';
  const imageSha = await writeImage(image, imageBytes);
  const partitionFile = join(stateDir, 'partitions', 'userdata.img');

  const fb = async (args: string[]) => {
    try {
      const r = await run('fastboot', ['-s', SERIAL, ...args], { timeout: 300_000, maxBuffer: 16 << 20 });
      return { code: 0, out: r.stdout + r.stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
      return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? e.message}` };
    }
  };
  await step('google-devices', async () => {
    const r = await run('fastboot', ['devices'], { timeout: 60_000 });
    if (!r.stdout.includes(SERIAL))
      throw new Error(`fastboot devices did not list ${SERIAL}: ${r.stdout}${r.stderr}`);
    return { output: r.stdout.trim() };
  });
  await step('google-getvar-all', async () => {
    const r = await fb(['getvar', 'all']);
    const vars = r.out.split('\n').filter((l) => l.startsWith('(bootloader) ')).length;
    if (r.code !== 0 || vars < 5)
      throw new Error(`fastboot getvar all exited ${r.code}: ${r.out.slice(0, 800)}`);
    return { variables: vars, serialno: /serialno:\s*(\S+)/.exec(r.out)?.[1] };
  });
  await step('google-flash', async () => {
    const t0 = performance.now();
    const r = await fb(['flash', 'userdata', image]);
    const ms = performance.now() - t0;
    if (r.code !== 0) throw new Error(`fastboot flash exited ${r.code}: ${r.out.slice(0, 800)}`);
    console.log(`fastboot flash said: ${r.out.trim()}`);
    const got = await sha256File(partitionFile, imageBytes);
    if (got !== imageSha) throw new Error('partition content differs from the image after fastboot flash');
    return { bytes: imageBytes, mbPerS: mbps(imageBytes, ms) };
  });

  // Flashline's own USB transport + fastboot client over the same real USB stack.
  const ourFlash = async (linkOpts: UsbLinkOptions = {}): Promise<Record<string, unknown>> => {
    await run('fastboot', ['-s', SERIAL, 'erase', 'userdata'], { timeout: 60_000 }).catch(() => {});
    const dev = await findWebUsb(backend, 30_000);
    const client = new FastbootClient(await openUsb(backend, dev, linkOpts));
    try {
      const product = await client.getvar('product');
      const vars = await client.getvarAll();
      const t0 = performance.now();
      // The engine's planner and sender, with pieces as large as the device's buffer (as `fastboot` sends).
      const plan = await flashPlannedImage(
        new FastbootSession(client),
        'userdata',
        { size: imageBytes, sparse: false },
        () => createReadStream(image),
      );
      const ms = performance.now() - t0;
      const got = await sha256File(partitionFile, imageBytes);
      if (got !== imageSha) throw new Error('partition content differs from the image after our flash');
      return {
        product,
        variables: vars.size,
        pieces: plan.pieces.length,
        bytes: imageBytes,
        mbPerS: mbps(imageBytes, ms),
      };
    } finally {
      await client.close();
    }
  };
  // A failed transfer leaves the device mid-download; a technician would replug, and so does the test.
  const replug = async (): Promise<void> => {
    await writeFile(GADGET_UDC, '\n');
    await sleep(500);
    await writeFile(GADGET_UDC, 'dummy_udc.0');
    await findWebUsb(backend, 30_000);
  };
  // As shipped: main/transport/usb.ts with its defaults (one 1 MiB OUT transfer in flight, no shim).
  if (!(await step('flashline-flash', () => ourFlash()))) await replug();
  // usb v3 allows one pending transfer per endpoint, so the transfer size is the lever: compare the old
  // 256 KiB default and AOSP's 16 KiB URBs (throughput is informational under emulation).
  if (!(await step('flashline-flash-256k', () => ourFlash({ transferSize: 256 * 1024 })))) await replug();
  if (!(await step('flashline-flash-16k', () => ourFlash({ transferSize: 16 * 1024 })))) await replug();

  // As shipped too: no udev, no shim; the transport types usb's own error.
  await step('cable-pull', async () => {
    const dev = await findWebUsb(backend, 30_000);
    const client = new FastbootClient(await openUsb(backend, dev), {
      dataTimeoutMs: 20_000,
      responseTimeoutMs: 20_000,
    });
    const pullAt = Math.floor(imageBytes / 3);
    let sent = 0;
    let pulled = false;
    const source = (async function* () {
      for await (const c of createReadStream(image)) {
        const chunk = c as Buffer;
        sent += chunk.byteLength;
        if (!pulled && sent >= pullAt) {
          pulled = true;
          await writeFile(GADGET_UDC, '\n');
        }
        yield chunk;
      }
    })();
    const t0 = performance.now();
    let error = '';
    try {
      await client.download(imageBytes, source);
    } catch (err) {
      error = `${(err as Error).name}: ${(err as Error).message}`;
    }
    const failMs = Math.round(performance.now() - t0);
    await client.close();
    await sleep(500);
    if ((await readFile(GADGET_UDC, 'utf8')).trim() === '') await writeFile(GADGET_UDC, 'dummy_udc.0');
    if (!pulled) throw new Error(`the download stopped before the pull point (${error})`);
    if (!error) throw new Error('the download succeeded although the gadget was unbound mid-transfer');
    return { pulledAtBytes: pullAt, error, failMs };
  });
  await step('replug-flash', () => ourFlash());

  // The flash engine, preflight to postcheck, over the same USB stack (see engine-steps.ts).
  await engineSteps(step, backend, { serial: SERIAL, udcFile: GADGET_UDC, udc: 'dummy_udc.0' });

  // ADB over USB: the reference device leaves the bus, a stock Android phone takes the UDC (adb-steps.ts).
  await stopGadget(gadget);
  await adbSteps(step, backend);

  // Qualcomm EDL: a bricked device (05c6:9008) rescued by Debian's qdl and by Flashline (edl-steps.ts).
  await edlSteps(step, backend);
}

main()
  .catch((err: unknown) => report('fatal', false, { error: err instanceof Error ? err.stack : String(err) }))
  .finally(() => {
    console.log(`FLASHLINE-USB-RESULT ${JSON.stringify({ step: 'summary', failures })}`);
    process.exit(failures === 0 ? 0 : 1);
  });
