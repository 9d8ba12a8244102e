/**
 * `npm run bench -- edl [--json] [--rounds N]`
 *
 * Qualcomm EDL over real USB: Flashline against Debian's `qdl` on the same gadget, in the same VM boot. The
 * USB test VM (scripts/usb-vm, docs/usb-testing.md) runs only its EDL steps (USB_STEPS=edl, test/usb/vm/
 * edl-steps.ts): the virtual bricked device is a FunctionFS gadget `05c6:9008`; `qdl` rescues it from a
 * vendor-style folder (xbl, boot, system, userdata: 14.2 MiB, a patch, setbootable, reset), then Flashline
 * rescues it from a folder of the same layout with new content over its USB EDL transport. Both are checked by
 * the device's own SHA-256. Figures:
 * - whole rescue: first Sahara byte to the reset ACK (qdl: the process's wall time, which includes its fixed
 *   5 s wait for the programmer's first logs; ours: the same steps, timed around them);
 * - program phase: Flashline's, timed around programFolder; qdl's per-partition rates as it prints them
 *   (whole-second resolution, so only the 8 MiB system image gives a usable figure).
 * Ratio = Flashline MB/s over qdl MB/s. Throughput under TCG emulation says nothing about real hardware; the
 * ratio is what compares the two hosts' transfer strategies (qdl 2022: 512-byte URBs; ours: 1 MiB).
 */
import { runInVm, USB_VM_PROGRAMS, usbVmHostBinaries } from '../scripts/usb-vm/harness.js';
import { median, option } from './_stats.js';

interface Step {
  step: string;
  ok: boolean;
  error?: string;
  [key: string]: unknown;
}

interface Round {
  qdlMbPerS: number;
  qdlSystemKBps: number | null;
  flashlineMbPerS: number;
  flashlineProgramMbPerS: number;
  backupMbPerS: number;
}

async function oneRound(): Promise<Round> {
  const vm = await runInVm({
    programs: USB_VM_PROGRAMS,
    command: 'USB_STEPS=edl node /app/vm-main.mjs',
    hostBinaries: usbVmHostBinaries(),
    timeoutMs: 30 * 60_000,
  });
  const steps = new Map<string, Step>();
  for (const r of vm.results as Step[]) if (typeof r?.step === 'string') steps.set(r.step, r);
  const get = (name: string): Step => {
    const s = steps.get(name);
    if (!s?.ok) throw new Error(`VM step ${name} ${s ? `failed: ${s.error}` : 'missing'}`);
    return s;
  };
  const qdl = get('qdl-rescue');
  const ours = get('flashline-rescue');
  const rates = (qdl.qdlRates as { label: string; kBps: number | null }[]) ?? [];
  return {
    qdlMbPerS: Number(qdl.mbPerS),
    qdlSystemKBps: rates.find((r) => r.label === 'system')?.kBps ?? null,
    flashlineMbPerS: Number(ours.mbPerS),
    flashlineProgramMbPerS: Number(ours.programMbPerS),
    backupMbPerS: Number(get('flashline-backup').mbPerS),
  };
}

export async function run(args: string[]): Promise<number> {
  const rounds = Number(option(args, '--rounds') ?? '1');
  const json = args.includes('--json');
  const all: Round[] = [];
  for (let i = 0; i < rounds; i++) {
    const r = await oneRound();
    all.push(r);
    if (!json) process.stderr.write(`round ${i + 1}: ${JSON.stringify(r)}\n`);
  }
  const m = (f: (r: Round) => number) => round2(median(all.map(f)));
  const qdlWhole = m((r) => r.qdlMbPerS);
  const oursWhole = m((r) => r.flashlineMbPerS);
  const qdlSystem = all.some((r) => r.qdlSystemKBps !== null)
    ? m((r) => ((r.qdlSystemKBps ?? 0) * 1024) / 1e6)
    : null;
  const oursProgram = m((r) => r.flashlineProgramMbPerS);
  const result = {
    rounds,
    wholeRescue: { qdlMbPerS: qdlWhole, flashlineMbPerS: oursWhole, ratio: round2(oursWhole / qdlWhole) },
    programPhase: {
      qdlSystemMbPerS: qdlSystem,
      flashlineMbPerS: oursProgram,
      ratio: qdlSystem ? round2(oursProgram / qdlSystem) : null,
    },
    flashlineBackupMbPerS: m((r) => r.backupMbPerS),
  };
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else
    process.stdout.write(
      `EDL over USB in the qemu VM (TCG), ${rounds} round(s), medians:\n` +
        `  whole rescue (14.2 MiB): qdl ${qdlWhole} MB/s, Flashline ${oursWhole} MB/s, ratio ${result.wholeRescue.ratio}\n` +
        `  program phase: qdl (system, as qdl prints it) ${qdlSystem ?? 'n/a'} MB/s, Flashline ${oursProgram} MB/s, ratio ${result.programPhase.ratio ?? 'n/a'}\n` +
        `  Flashline backup (Firehose read, 8 MiB): ${result.flashlineBackupMbPerS} MB/s\n`,
    );
  return 0;
}

const round2 = (n: number) => Math.round(n * 100) / 100;
