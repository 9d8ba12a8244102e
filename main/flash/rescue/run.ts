/**
 * The rescue job: verify package → Sahara identify → programmer check + upload → configure → optional
 * backup → program → patch → set bootable → reset → wait for the device to come back (fastboot or Android)
 * → postcheck (serial and product). Ends with a RescueReport whose status is the job's status code.
 * Where packages, links and come-back probes come from is the composition root's (RescueDeps, deps.ts).
 */

import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlashlineError } from '../../common/errors.js';
import type { DeviceInfo } from '../../devices/index.js';
import type { VerifiedPackage } from '../../package/index.js';
import { checkRescueTarget } from '../../package/qualcomm-rescue/index.js';
import {
  applyRescuePlan,
  detectStorage,
  enterFirehose,
  type FirehoseClient,
  readPartitionTable,
  readToFile,
} from '../../protocol/firehose/index.js';
import type { StreamLink } from '../../transport/index.js';
import type { RescueProgress, RescueReport, RescueRequest, RunRescue } from './contract.js';
import { verifyRescueContents } from './package-files.js';
import { RescueReportBuilder, rescueStatusOf, StageMeter } from './report.js';

export interface RescueDeps {
  /** Open and check a rescue package (trust, expiry, kind `qualcomm-rescue`, decryption keys). */
  openPackage(path: string, signal?: AbortSignal): Promise<VerifiedPackage>;
  /** The EDL byte stream of a device id. */
  openLink(deviceId: string, signal?: AbortSignal): Promise<StreamLink>;
  /** Identify whatever answers at a device id now (fastboot or ADB); never throws for "not there". */
  probe(deviceId: string, signal?: AbortSignal): Promise<DeviceInfo>;
}

export const DEFAULT_COME_BACK_MS = 120_000;
const PROBE_INTERVAL_MS = 500;

/** Where a device served at `edl:HOST:PORT` comes back: fastboot on the same address (`tcp:HOST:PORT`). */
export function defaultComeBackId(deviceId: string): string | undefined {
  return deviceId.startsWith('edl:') ? `tcp:${deviceId.slice(4)}` : undefined;
}

/** Serials compared as Qualcomm bootloaders print the Sahara serial: hex, case and leading zeros aside. */
function sameSerial(fastboot: string, sahara: number): boolean {
  return /^[0-9a-f]+$/i.test(fastboot) && Number.parseInt(fastboot, 16) === sahara;
}

class RescueFailure extends FlashlineError {}

export function createRunRescue(deps: RescueDeps): RunRescue {
  return (req, onProgress) => rescue(deps, req, onProgress);
}

async function rescue(
  deps: RescueDeps,
  req: RescueRequest,
  onProgress: (p: RescueProgress) => void,
): Promise<RescueReport> {
  const b = new RescueReportBuilder(req.deviceId, req.job);
  const r = b.report;
  const signal = req.signal;
  const call = signal ? { signal } : {};
  let link: StreamLink | undefined;
  let firehose: FirehoseClient | undefined;
  try {
    b.begin('verify');
    const pkg = await deps.openPackage(req.packagePath, signal);
    r.package = {
      id: pkg.path.replace(/^.*[\\/]/, '').replace(/\.flp$/i, ''),
      version: pkg.manifest.version,
      sha256: pkg.manifestSha256,
    };
    const total = pkg.images.reduce((n, i) => n + i.size, 0);
    const verifyMeter = new StageMeter('verify', total, onProgress);
    const contents = await verifyRescueContents(pkg, (d, l) => verifyMeter.tick(d, l), signal);
    b.addBytes(total);
    const { rescue: section } = contents;

    b.begin('identify');
    link = await deps.openLink(req.deviceId, signal);
    let meter: StageMeter | undefined;
    const entered = await enterFirehose(link, {
      programmer: contents.programmer,
      ...call,
      onIdentified: (identity) => {
        if (identity) {
          Object.assign(r.identity, {
            saharaVersion: identity.version,
            ...(identity.serialNumber !== undefined
              ? { serial: identity.serialNumber.toString(16).padStart(8, '0') }
              : {}),
            ...(identity.msmHwId ? { msmHwId: identity.msmHwId } : {}),
            ...(identity.oemPkHash ? { oemPkHash: identity.oemPkHash } : {}),
          });
        }
        checkRescueTarget(section, identity);
        if (!identity) return;
        b.begin('programmer');
        meter = new StageMeter('programmer', contents.programmer.byteLength, onProgress);
      },
      onProgrammerProgress: (d) => {
        meter?.tick(d, section.programmer);
        b.addBytes(d);
      },
    });
    firehose = entered.firehose;
    const identity = entered.identity;
    await firehose.drain(call);
    const config = await detectStorage(firehose, {
      ...call,
      ...(section.storage ? { prefer: section.storage } : {}),
    });

    if (req.backup && req.backup.partitions.length > 0) {
      b.begin('backup');
      await backup(firehose, config.sectorSize, req.backup, b, onProgress, signal);
    }

    b.begin('program');
    const programMeter = new StageMeter('program', contents.programBytes, onProgress);
    const fh = firehose;
    await applyRescuePlan(fh, contents.plan, contents.files, {
      ...call,
      onStep: (step, what) => {
        if (step === 'patch' && b.stage !== 'patch') b.begin('patch');
        if (step === 'bootable') b.begin('bootable');
        if (step === 'erase') programMeter.label(`erase ${what}`);
      },
      onProgress: (label, sent) => {
        programMeter.tick(sent, label);
        b.addBytes(sent);
      },
    });

    b.begin('reset');
    await fh.reset(call);
    r.deviceLog = [...fh.log];
    await link.close();
    link = undefined;

    b.begin('wait-back');
    const backId = req.comeBack?.deviceId ?? defaultComeBackId(req.deviceId);
    if (!backId)
      throw new RescueFailure(
        41,
        `The device was rescued and reset, but where it comes back is unknown for ${req.deviceId}: give the come-back device id (e.g. tcp:HOST:PORT or usb:SERIAL).`,
      );
    const back = await waitBack(deps, backId, req.comeBack?.timeoutMs ?? DEFAULT_COME_BACK_MS, signal);
    r.cameBackAs = back.id;

    b.begin('postcheck');
    const problems: string[] = [];
    if (
      identity?.serialNumber !== undefined &&
      (!back.serial || !sameSerial(back.serial, identity.serialNumber))
    )
      problems.push(`it reports serial ${back.serial ?? 'none'}, the rescued unit was ${r.identity.serial}`);
    if (!back.product || !pkg.manifest.products.includes(back.product))
      problems.push(
        `it is ${back.product ?? 'an unknown product'}, the package is for ${pkg.manifest.products.join(', ')}`,
      );
    r.postcheck = `came back in ${back.mode} at ${back.id}: serial ${back.serial ?? '?'}, product ${back.product ?? '?'}`;
    if (problems.length > 0)
      throw new RescueFailure(45, `A device came back at ${back.id}, but ${problems.join('; ')}.`);
    return b.finish(0, `Rescued: the device came back in ${back.mode} as ${back.id}.`);
  } catch (err) {
    if (firehose) r.deviceLog = [...firehose.log];
    const status = rescueStatusOf(err, b.stage);
    return b.finish(status, err instanceof Error ? err.message : String(err));
  } finally {
    await link?.close().catch(() => undefined);
  }
}

async function waitBack(
  deps: RescueDeps,
  id: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<DeviceInfo> {
  const deadline = Date.now() + timeoutMs;
  let last: DeviceInfo | undefined;
  for (;;) {
    signal?.throwIfAborted();
    last = await deps.probe(id, signal);
    if (last.state === 'ready' && (last.mode === 'fastboot' || last.mode === 'android')) return last;
    if (Date.now() >= deadline) break;
    await sleep(PROBE_INTERVAL_MS, undefined, signal ? { signal } : {});
  }
  throw new RescueFailure(
    41,
    `The device did not come back at ${id} within ${Math.round(timeoutMs / 1000)} s after the rescue${last?.note ? ` (${last.note})` : ''}.`,
  );
}

async function backup(
  firehose: FirehoseClient,
  sectorSize: number,
  req: NonNullable<RescueRequest['backup']>,
  b: RescueReportBuilder,
  onProgress: (p: RescueProgress) => void,
  signal?: AbortSignal,
): Promise<void> {
  const call = signal ? { signal } : {};
  const table = await readPartitionTable(firehose, sectorSize, 0, call);
  const parts = req.partitions.map((name) => {
    const p = table.find((x) => x.label === name);
    if (!p)
      throw new RescueFailure(
        30,
        `The device has no partition '${name}' to back up; it has ${table.map((x) => x.label).join(', ')}.`,
      );
    return p;
  });
  const total = parts.reduce((n, p) => n + (p.lastLba - p.firstLba + 1) * sectorSize, 0);
  const meter = new StageMeter('backup', total, onProgress);
  let before = 0;
  for (const p of parts) {
    const numSectors = p.lastLba - p.firstLba + 1;
    const file = join(req.dir, `${p.label}.img`);
    const { bytes, sha256 } = await readToFile(
      firehose,
      { sectorSize, physicalPartition: 0, startSector: p.firstLba, numSectors },
      file,
      {
        ...call,
        onProgress: (d) => {
          meter.tick(before + d, p.label);
          b.addBytes(before + d);
        },
      },
    );
    before += bytes;
    b.report.backups.push({ partition: p.label, file, bytes, sha256 });
  }
}
