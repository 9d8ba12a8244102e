/**
 * Debian's `make-dynpart-mappings SUPER [SLOT]` as a judge of super metadata. It is an independent C reader of
 * the liblp format (its own geometry/header/table parsing, SHA-256 checks) that turns one slot's metadata into
 * device-mapper tables. This container's kernel has no device-mapper, so the tool runs with dm-shim.c
 * preloaded: the shim answers the libdevmapper/libblkid calls made *after* parsing and prints the tables the
 * tool built. The peer therefore judges parsing and the extent → table translation; it does not prove a kernel
 * would load the tables. Other tests (e.g. a super dumped from the virtual device) can use this helper.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  LP_SECTOR_SIZE,
  metadataForSlot,
  type SuperMetadata,
} from '../../../main/protocol/fastboot/super/index.js';

const run = promisify(execFile);
export const MAKE_DYNPART_MAPPINGS = '/usr/bin/make-dynpart-mappings';
/** The block device the shim answers for every PARTLABEL lookup. */
export const SHIM_DEVICE = '/dev/flashline-test-super';

export interface DynpartRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Partition name → its device-mapper table lines (`start size type params`), in the tool's order. */
  readonly tables: Map<string, string[]>;
}

export type DynpartPeer =
  | { readonly available: false; readonly reason: string }
  | {
      readonly available: true;
      /** Run the tool on a super image (file) for one metadata slot, with the shim. */
      run(superFile: string, slot: number): Promise<DynpartRun>;
      /** Run the tool without the shim (needs a kernel device-mapper to map anything). */
      runBare(superFile: string, slot: number): Promise<DynpartRun>;
    };

function parseTables(stdout: string): Map<string, string[]> {
  const tables = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('DM name ')) {
      current = [];
      tables.set(line.slice(8), current);
    } else if (line.startsWith('DM target ') && current) {
      current.push(line.slice(10).trimEnd());
    }
  }
  return tables;
}

async function exec(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<DynpartRun> {
  try {
    const { stdout, stderr } = await run(file, args, { env, timeout: 60_000 });
    return { code: 0, stdout, stderr, tables: parseTables(stdout) };
  } catch (err) {
    const e = err as { code?: number | string; signal?: string; stdout?: string; stderr?: string };
    const code = typeof e.code === 'number' ? e.code : e.signal ? 128 : -1;
    return { code, stdout: e.stdout ?? '', stderr: e.stderr ?? '', tables: parseTables(e.stdout ?? '') };
  }
}

/** Build the shim in `dir` (needs gcc) and return the peer, or why it cannot run here. */
export async function prepareDynpartPeer(dir: string): Promise<DynpartPeer> {
  if (!existsSync(MAKE_DYNPART_MAPPINGS)) {
    return {
      available: false,
      reason: `${MAKE_DYNPART_MAPPINGS} is not installed (Debian package make-dynpart-mappings)`,
    };
  }
  const shim = join(dir, 'dm-shim.so');
  try {
    await run('gcc', ['-shared', '-fPIC', '-O1', '-o', shim, join(import.meta.dirname, 'dm-shim.c')], {
      timeout: 60_000,
    });
  } catch (err) {
    return { available: false, reason: `cannot build the LD_PRELOAD shim: ${(err as Error).message}` };
  }
  const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
  return {
    available: true,
    run: (superFile, slot) =>
      exec(MAKE_DYNPART_MAPPINGS, [superFile, String(slot)], {
        ...base,
        LD_PRELOAD: shim,
        DMSHIM_DEVICE: SHIM_DEVICE,
      }),
    runBare: (superFile, slot) => exec(MAKE_DYNPART_MAPPINGS, [superFile, String(slot)], base),
  };
}

/**
 * The tables make-dynpart-mappings should build from `md` for metadata slot `slot` (as liblp's reader and
 * fs_mgr would): per partition, one line per extent, `logical-start sectors linear <device> <sector>` or
 * `logical-start sectors zero`; partitions without extents get an empty table; SLOT_SUFFIXED partitions are
 * named with the slot's suffix (`_a`, `_b`, …), as liblp's ReadMetadata does.
 */
export function expectedDynpartTables(
  md: SuperMetadata,
  slot = 0,
  device = SHIM_DEVICE,
): Map<string, string[]> {
  const tables = new Map<string, string[]>();
  for (const p of metadataForSlot(md, slot).partitions) {
    let start = 0;
    tables.set(
      p.name,
      p.extents.map((e) => {
        const line =
          e.type === 'linear'
            ? `${start} ${e.numSectors} linear ${device} ${e.targetData}`
            : `${start} ${e.numSectors} zero`;
        start += e.numSectors;
        return line;
      }),
    );
  }
  return tables;
}

/** Bytes per sector in the tables (for readers of the output). */
export const DM_SECTOR_SIZE = LP_SECTOR_SIZE;
