/**
 * Who holds a serial port we could not open. Where the system exposes open files per process (Linux's
 * /proc) the holder is named — "pid 4242 (minicom -D /dev/ttyUSB0)" — so a technician knows what to close;
 * elsewhere (Windows, macOS) the answer is undefined and the caller gives the generic hint. Nothing here
 * shells out (no lsof/fuser: they may be missing and would make product code platform-specific); it is a
 * bounded directory walk with plain fs calls, written by hand because no maintained library does only this.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

const PROC = '/proc';
const MAX_COMMAND = 80;

/** A readable name for the process(es) holding `path` open, or undefined when unknown. */
export async function describePortHolder(path: string, timeoutMs = 1000): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let target: string;
  let pids: string[];
  try {
    target = await fs.realpath(path);
    pids = (await fs.readdir(PROC)).filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const holders: string[] = [];
  for (const pid of pids) {
    if (Date.now() > deadline) break;
    if (await holdsFile(pid, target)) holders.push(await describeProcess(pid));
  }
  return holders.length > 0 ? holders.join(', ') : undefined;
}

async function holdsFile(pid: string, target: string): Promise<boolean> {
  const dir = join(PROC, pid, 'fd');
  let fds: string[];
  try {
    fds = await fs.readdir(dir);
  } catch {
    return false; // gone meanwhile, or not ours to look at
  }
  for (const fd of fds) {
    const link = await fs.readlink(join(dir, fd)).catch(() => '');
    if (link === target) return true;
  }
  return false;
}

async function describeProcess(pid: string): Promise<string> {
  const self = Number(pid) === process.pid ? ', this Flashline process' : '';
  const raw = await fs.readFile(join(PROC, pid, 'cmdline'), 'latin1').catch(() => '');
  const command = raw.split('\0').filter(Boolean).join(' ');
  const short = command.length > MAX_COMMAND ? `${command.slice(0, MAX_COMMAND - 1)}…` : command;
  return short ? `pid ${pid}${self}: ${short}` : `pid ${pid}${self}`;
}
