/**
 * ADB over real USB, inside the VM: the gadget plays a stock Android phone (profile stock-android) that shows
 * the ADB interface ff/42/01 in Android and re-enumerates with fastboot's ff/42/03 under the same serial after
 * `reboot bootloader`. Flashline's ADB client (openAdb 'usb:SERIAL') and fastboot client drive it across both
 * modes; Debian's adb (copied into the VM when the host has it) lists it and runs a shell command.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { AdbConnection } from '../../../main/protocol/adb/contract.js';
import { openAdb } from '../../../main/protocol/adb/open.js';
import { FastbootClient } from '../../../main/protocol/fastboot/client.js';
import { findFastbootInterface, openUsb } from '../../../main/transport/usb.js';
import { findAdbInterface } from '../../../main/transport/usb-adb.js';
import type { UsbBackend, UsbDeviceLike } from '../../../main/transport/usb-types.js';
import { startGadget, stopGadget } from './gadget-process.js';

const run = promisify(execFile);
/** Distinct from the reference gadget's FLUSB0001, so a step never mistakes one device for the other. */
export const PHONE_SERIAL = 'FLUSB0002';
const KEY_DIR = '/tmp/flashline-adb';
/** Slow emulated machine: bounds are generous, but every one is still a bound. */
const ADB_OPTIONS = { keyDir: KEY_DIR, timeoutMs: 60_000, authWaitMs: 30_000 };

type Step = (name: string, fn: () => Promise<Record<string, unknown>>) => Promise<boolean>;
type Mode = 'adb' | 'fastboot';

/** The phone as WebUSB sees it once it shows the interface of `mode` (polls: it re-enumerates on reboots). */
async function waitForPhone(backend: UsbBackend, mode: Mode, timeoutMs: number): Promise<UsbDeviceLike> {
  const find = mode === 'adb' ? findAdbInterface : findFastbootInterface;
  // `usb` reads descriptors by opening the device: one still listed while it leaves the bus throws
  // ("open error: device not found", seen after fastboot `reboot`) — it is not there yet in the wanted mode.
  const has = (d: UsbDeviceLike): boolean => {
    try {
      return find(d) !== undefined;
    } catch {
      return false;
    }
  };
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const devices = await backend.getDevices().catch(() => []);
    const dev = devices.find((d) => d.serialNumber === PHONE_SERIAL && has(d));
    if (dev) return dev;
    await sleep(200);
  }
  throw new Error(`no USB device ${PHONE_SERIAL} with the ${mode} interface after ${timeoutMs} ms`);
}

async function withAdb<T>(backend: UsbBackend, fn: (adb: AdbConnection) => Promise<T>): Promise<T> {
  await waitForPhone(backend, 'adb', 60_000);
  const adb = await openAdb(`usb:${PHONE_SERIAL}`, { ...ADB_OPTIONS, usb: backend });
  try {
    return await fn(adb);
  } finally {
    await adb.close();
  }
}

async function withFastboot<T>(backend: UsbBackend, fn: (fb: FastbootClient) => Promise<T>): Promise<T> {
  const client = new FastbootClient(await openUsb(backend, await waitForPhone(backend, 'fastboot', 60_000)));
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** usbfs files this process holds open (a claim outlives its link only while its file is open). */
async function usbfsHandles(): Promise<number> {
  let n = 0;
  for (const fd of await readdir('/proc/self/fd').catch(() => [])) {
    if ((await readlink(`/proc/self/fd/${fd}`).catch(() => '')).startsWith('/dev/bus/usb/')) n++;
  }
  return n;
}

/** Pids of adb processes still running (a server that outlived kill-server would keep the interface). */
async function adbPids(): Promise<number[]> {
  const pids: number[] = [];
  for (const p of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(p)) continue;
    const cmd = await readFile(`/proc/${p}/cmdline`, 'latin1').catch(() => '');
    if (/(^|\/)adb\0/.test(cmd)) pids.push(Number(p));
  }
  return pids;
}

/** Debian's adb: its own server on port 5038 with HOME in /tmp, killed afterwards (it claims the interface). */
async function debianAdb(): Promise<Record<string, unknown>> {
  const home = '/tmp/debian-adb-home';
  await mkdir(home, { recursive: true });
  // The server logs to $TMPDIR/adb.<uid>.log; shown when the step fails.
  const env = { ...process.env, HOME: home, ADB_TRACE: 'usb,transport,adb' };
  const adb = (args: string[], timeout = 60_000) => run('adb', ['-P', '5038', ...args], { env, timeout });
  try {
    await adb(['start-server']);
    await adb(['-s', PHONE_SERIAL, 'wait-for-device']).catch(async (err: Error) => {
      const devices = await adb(['devices', '-l'], 20_000).then((r) => r.stdout, String);
      const log = await readFile('/tmp/adb.0.log', 'utf8').catch(() => 'no /tmp/adb.0.log');
      for (const line of log.split('\n').slice(-120)) console.log(`adb-log| ${line}`);
      throw new Error(`${err.message.trim()}; adb devices -l: ${devices.trim()}`);
    });
    const devices = (await adb(['devices', '-l'])).stdout;
    if (!new RegExp(`${PHONE_SERIAL}\\s+device\\b`).test(devices))
      throw new Error(`adb devices -l did not list ${PHONE_SERIAL} as a device: ${devices}`);
    const serialno = (await adb(['-s', PHONE_SERIAL, 'shell', 'getprop', 'ro.serialno'])).stdout.trim();
    if (serialno !== PHONE_SERIAL) throw new Error(`adb shell getprop ro.serialno said '${serialno}'`);
    const exitCode = await adb(['-s', PHONE_SERIAL, 'shell', 'exit 3']).then(
      () => 0,
      (err: { code?: number }) => err.code,
    );
    if (exitCode !== 3) throw new Error(`adb shell 'exit 3' exited ${exitCode}`);
    return { devices: devices.trim().split('\n').slice(1), serialno, exitCode };
  } finally {
    await adb(['kill-server'], 20_000).catch(() => {});
    await sleep(500);
    // A server that outlived kill-server would keep the ADB interface claimed: end it (it is ours).
    for (const pid of await adbPids()) {
      console.log(`debian-adb: adb pid ${pid} still running after kill-server; killing it`);
      process.kill(pid, 'SIGKILL');
    }
  }
}

/** phone-gadget, webusb-adb, flashline-adb, adb-reboot-bootloader, fastboot-reboot-android, debian-adb. */
export async function adbSteps(step: Step, backend: UsbBackend): Promise<void> {
  // FLASHLINE_USB_DEBUG: the gadget traces each ADB message header it reads and writes (console only).
  const gadget = startGadget(
    { profile: 'stock-android', serial: PHONE_SERIAL },
    { FLASHLINE_USB_DEBUG: '1' },
  );
  try {
    const up = await step('phone-gadget', async () => ({ udc: (await gadget.ready).udc }));
    if (!up) return;
    await step('webusb-adb', async () => {
      const d = await waitForPhone(backend, 'adb', 30_000);
      const alt = d.configurations[0]?.interfaces[0]?.alternates[0];
      const cls = alt ? [alt.interfaceClass, alt.interfaceSubclass, alt.interfaceProtocol] : [];
      return {
        serial: d.serialNumber,
        interfaceClass: cls,
        endpoints: alt?.endpoints.map((e) => `${e.direction}:${e.type}:${e.packetSize}`),
      };
    });
    await step('flashline-adb', async () => {
      const t0 = performance.now();
      const got = await withAdb(backend, async (adb) => {
        const connectMs = Math.round(performance.now() - t0);
        const serialno = await adb.getprop('ro.serialno');
        if (serialno !== PHONE_SERIAL) throw new Error(`getprop ro.serialno said '${serialno}'`);
        const exit = await adb.shell('exit 3');
        if (exit.exitCode !== 3) throw new Error(`shell 'exit 3' gave exit status ${exit.exitCode}`);
        const props = await adb.getprops();
        return {
          description: adb.description,
          state: adb.banner.state,
          model: adb.banner.properties['ro.product.model'],
          features: adb.banner.features,
          serialno,
          exitCode: exit.exitCode,
          slotSuffix: props.get('ro.boot.slot_suffix'),
          properties: props.size,
          connectMs,
        };
      });
      // close() resolves once the interface is released: no usbfs file may stay open (a claim would).
      return { ...got, usbfsFilesAfterClose: await usbfsHandles() };
    });
    await step('adb-reboot-bootloader', async () => {
      await withAdb(backend, (adb) => adb.reboot('bootloader'));
      const t0 = performance.now();
      const ours = await withFastboot(backend, async (fb) => ({
        serialno: await fb.getvar('serialno'),
        product: await fb.getvar('product'),
      }));
      const reenumerateMs = Math.round(performance.now() - t0);
      if (ours.serialno !== PHONE_SERIAL) throw new Error(`fastboot getvar serialno said '${ours.serialno}'`);
      const google = await run('fastboot', ['-s', PHONE_SERIAL, 'getvar', 'current-slot'], {
        timeout: 60_000,
      });
      const slot = /current-slot:\s*(\S+)/.exec(google.stdout + google.stderr)?.[1];
      return { ...ours, googleCurrentSlot: slot, reenumerateMs };
    });
    await step('fastboot-reboot-android', async () => {
      await withFastboot(backend, (fb) => fb.reboot());
      return withAdb(backend, async (adb) => {
        let completed = '';
        for (let i = 0; i < 60 && completed !== '1'; i++) {
          completed = await adb.getprop('sys.boot_completed');
          if (completed !== '1') await sleep(250);
        }
        if (completed !== '1') throw new Error('sys.boot_completed never became 1 after fastboot reboot');
        return {
          serialno: await adb.getprop('ro.serialno'),
          bootCompleted: completed,
          slotSuffix: await adb.getprop('ro.boot.slot_suffix'),
        };
      });
    });
    // Last: Debian's server claims the interface while it runs (it is killed at the end of the step).
    if (existsSync('/usr/bin/adb')) await step('debian-adb', debianAdb);
  } finally {
    await stopGadget(gadget);
  }
}
