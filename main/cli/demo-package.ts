/**
 * The demo package: a virtual boot image (version metadata) and a system image, signed with the shipped demo
 * key (scoped to the virtual product only). Its own module, apart from `flashline demo`, because the USB VM
 * test bundles it with esbuild and must not pull in the station (and Vite) that the demo command starts.
 */
import { Readable } from 'node:stream';
import { makeVirtualImage, type PartitionSpec } from '../../virtual-device/index.js';
import { androidBootImage } from '../package/android-image/boot.js';
import { createDemoPackage } from '../package/index.js';

const MiB = 1024 * 1024;

export const DEMO_PARTITIONS: readonly PartitionSpec[] = [
  { name: 'boot', size: 16 * MiB, slotted: true },
  { name: 'system', size: 64 * MiB, slotted: true },
  { name: 'misc', size: MiB, slotted: false },
];

export interface DemoPackageSpec {
  readonly version?: string;
  readonly rollbackIndex?: number;
  /** Version the image really boots (defaults to `version`); a different value makes postcheck fail. */
  readonly bootsVersion?: string;
  readonly bootSize?: number;
  readonly systemSize?: number;
  /**
   * `flashline` (default): Flashline's virtual image header (version + rollback index). `android`: a real
   * Android boot image (header v3, os_version = the version, which must be A.B.C with parts 0-127, patch
   * level 2026-11) — the device reads its version as a bootloader does; it carries no rollback index.
   */
  readonly bootFormat?: 'flashline' | 'android';
}

/** Build a signed demo package with a virtual boot image (version metadata) and a system image. */
export async function makeDemoPackage(outPath: string, spec: DemoPackageSpec = {}): Promise<string> {
  const version = spec.version ?? '2.0.0';
  const rollbackIndex = spec.rollbackIndex ?? 2;
  const bootSize = spec.bootSize ?? 4 * MiB;
  const systemSize = spec.systemSize ?? 8 * MiB;
  const boots = spec.bootsVersion ?? version;
  const android = spec.bootFormat === 'android' ? androidBootImage(boots, bootSize) : null;
  await createDemoPackage({
    outPath,
    version,
    rollbackIndex,
    expectedVersion: version,
    images: [
      android
        ? { partition: 'boot', source: Readable.from([android]), size: android.byteLength }
        : {
            partition: 'boot',
            source: makeVirtualImage({ version: boots, rollbackIndex, size: bootSize }),
            size: bootSize,
          },
      {
        partition: 'system',
        source: makeVirtualImage({
          version: boots,
          rollbackIndex,
          size: systemSize,
          seed: `system-${version}`,
        }),
        size: systemSize,
      },
    ],
  });
  return outPath;
}
