/** Shared pieces of the rescue-package tests: a virtual EDL device that boots into fastboot, and packing. */
import { join } from 'node:path';
import { DEMO_SIGNING_KEY_PATH, loadSigningPrivateKey } from '../../../main/package/index.js';
import { packQualcommRescue } from '../../../main/package/qualcomm-rescue/index.js';
import { EdlDeviceHandle, type EdlDeviceOptions, startVirtualDevice } from '../../../virtual-device/index.js';
import { type ChildRun, runFlashline } from '../cli/child.js';

/** An EDL device that, once rescued and reset, comes back as the reference fastboot device (same serial). */
export function startRescuableDevice(
  opts: EdlDeviceOptions & { fastbootTcp?: { host: string; port: number } } = {},
): Promise<EdlDeviceHandle> {
  return EdlDeviceHandle.start({
    bootTo: async ({ serial, edlTcp }) => {
      const fb = await startVirtualDevice({
        serial,
        tcp: edlTcp ?? opts.fastbootTcp ?? { port: 0 },
        bootDelayMs: 50,
      });
      return { address: fb.address, stop: () => fb.stop() };
    },
    ...opts,
  });
}

/** Pack a rescue folder with the demo key (trusted for flashline-virtual by the shipped trust entry). */
export async function packRescue(
  dir: string,
  out: string,
  extra: { allowSecdata?: boolean; msmHwIds?: string[]; oemPkHashes?: string[] } = {},
): Promise<string> {
  const key = await loadSigningPrivateKey(DEMO_SIGNING_KEY_PATH);
  await packQualcommRescue({
    dir,
    outPath: out,
    products: ['flashline-virtual'],
    version: '1.0.0',
    keys: [key],
    ...extra,
  });
  return out;
}

export const homeEnv = (dir: string) => ({ FLASHLINE_HOME: join(dir, 'home') });

/** `flashline pack --from-qualcomm-dir FOLDER` as a child process, signed with the demo key. */
export function packCli(folder: string, out: string, env: Record<string, string>): Promise<ChildRun> {
  return runFlashline(
    [
      'pack',
      '--from-qualcomm-dir',
      folder,
      '--product',
      'flashline-virtual',
      '--version',
      '1.0.0',
      '--key',
      join('resources', 'demo', 'demo-signing.key'),
      '--out',
      out,
    ],
    { env },
  );
}
