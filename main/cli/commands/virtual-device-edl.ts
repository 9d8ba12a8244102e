/**
 * `flashline virtual-device --profile qualcomm-edl`: a bricked Qualcomm device in EDL (Sahara → Firehose)
 * over a raw TCP stream (`edl:HOST:PORT`) and/or a pty (`serial:PATH`). Kept apart from virtual-device.ts,
 * which only routes this profile here.
 */
import { type BootHook, EdlDeviceHandle, startVirtualDevice } from '../../../virtual-device/index.js';
import { TCP_DEFAULT_PORT } from '../../protocol/fastboot/tcp-framing.js';
import { untilInterrupted } from '../options.js';

export interface EdlCliOptions {
  tcp?: { host: string; port: number };
  pty: boolean;
  state?: string;
  json: boolean;
  storage?: string;
  saharaVersion?: number;
  nakAtSector?: number;
  dropAtByte?: number;
}

/** Exit-2 usage problems, or null. */
export function edlUsageProblem(opts: EdlCliOptions): string | null {
  if (opts.storage !== undefined && opts.storage !== 'emmc' && opts.storage !== 'ufs')
    return `--storage ${opts.storage}: use emmc (512-byte sectors) or ufs (4096-byte sectors).`;
  if (opts.saharaVersion !== undefined && opts.saharaVersion !== 2 && opts.saharaVersion !== 3)
    return `--sahara-version ${opts.saharaVersion}: use 2 or 3.`;
  return null;
}

/**
 * After a rescue and reset with a bootable disk the device comes back as the reference fastboot device
 * (same serial): on the EDL TCP address when EDL was served over TCP, else on `--tcp` (default
 * 127.0.0.1:5554) when EDL was on the pty.
 */
function bootToFastboot(
  stateDir: string | undefined,
  fastbootTcp?: { host: string; port: number },
): BootHook {
  return async ({ serial, edlTcp }) => {
    const tcp = edlTcp ?? fastbootTcp ?? { host: '127.0.0.1', port: TCP_DEFAULT_PORT };
    const device = await startVirtualDevice({
      serial,
      tcp,
      ...(stateDir ? { stateDir: `${stateDir}/fastboot` } : {}),
    });
    process.stderr.write(`EDL device ${serial} booted: fastboot on ${device.address}\n`);
    return { address: device.address, stop: () => device.stop() };
  };
}

export async function runEdlDevice(opts: EdlCliOptions): Promise<void> {
  const interrupted = untilInterrupted(() => 'stopping the EDL virtual device');
  // With --pty, EDL is on the pty only and --tcp is where fastboot comes back.
  const tcp = opts.pty ? false : (opts.tcp ?? { host: '127.0.0.1', port: 9008 });
  const device = await EdlDeviceHandle.start({
    bootTo: bootToFastboot(opts.state, opts.pty ? opts.tcp : undefined),
    ...(opts.state ? { stateDir: opts.state } : {}),
    storage: opts.storage === 'emmc' ? 'emmc' : 'ufs',
    saharaVersion: opts.saharaVersion === 3 ? 3 : 2,
    tcp,
    pty: opts.pty,
    faults: {
      ...(opts.nakAtSector !== undefined ? { nakAtSector: opts.nakAtSector } : {}),
      ...(opts.dropAtByte !== undefined ? { dropAtByte: opts.dropAtByte } : {}),
    },
  });
  const row = {
    profile: 'qualcomm-edl',
    serial: device.serialNumber.toString(16).padStart(8, '0'),
    address: device.address,
    pty: device.ptyPath,
    fastbootAfterRescue: opts.pty
      ? `tcp:${opts.tcp?.host ?? '127.0.0.1'}:${opts.tcp?.port ?? TCP_DEFAULT_PORT}`
      : device.address?.replace(/^edl:/, 'tcp:'),
    storage: device.storage.type,
    sectorSize: device.storage.sectorSize,
    oemPkHash: Buffer.from(device.oemPkHash).toString('hex'),
    stateDir: device.stateDir,
  };
  if (opts.json) process.stdout.write(`${JSON.stringify([row])}\n`);
  else {
    const where = [row.address, row.pty ? `serial:${row.pty}` : undefined].filter(Boolean).join('  ');
    process.stdout.write(
      `EDL ${row.serial}  ${where}  ${row.storage} (${row.sectorSize}-byte sectors)  OEM PK hash ${row.oemPkHash}\nPress Ctrl-C to stop.\n`,
    );
  }
  await interrupted;
  await device.stop();
}
