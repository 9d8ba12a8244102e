/**
 * `npm run bench -- serial [--json] [--rounds N] [--size MiB]`
 *
 * fastboot over a serial line against the line itself, in the same run. The link is a socat pty pair made
 * exactly as the virtual device makes it (virtual-device/pty.ts), with serialport on both ends:
 * - flash: Flashline's client (transport + framing + fastboot, in a child process) flashes a raw image to a
 *   virtual device served on a pty by another child process (bench/_device-host.ts);
 * - raw copy: one child writes the same number of bytes into a fresh pair with serialport, as the client's
 *   transport does, and another child reads them with serialport until the last byte, as the device does.
 * Rounds alternate the order after a warm-up; the ratio is flash MB/s over raw MB/s (goal >= 0.8).
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { openFastboot } from '../main/protocol/fastboot/index.js';
import { openSerialStream } from '../main/transport/index.js';
import { makeVirtualImage } from '../virtual-device/image-metadata.js';
import { openPtyPair } from '../virtual-device/pty.js';
import { startDeviceHost } from './_device-host.js';
import { median, option } from './_stats.js';

const MiB = 1024 * 1024;
const self = fileURLToPath(import.meta.url);

/** Run `serial.ts --MODE args…` in a child; resolves with its last stdout line, parsed. */
function childRun(args: string[]): Promise<{ ms: number; downloadMs: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', self, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2000);
    });
    p.on('error', reject);
    p.on('exit', (code) => {
      if (code !== 0) reject(new Error(`${args[0]} child exited with ${code}: ${err.trim()}`));
      else
        resolve(
          JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as {
            ms: number;
            downloadMs: number;
            bytes: number;
          },
        );
    });
  });
}

/**
 * Child: flash FILE to system_b over ADDRESS. Prints the download phase (the bytes on the link: what the
 * raw copy is compared with) and the whole flash (open, download, and the device writing the partition).
 */
async function flashChild(address: string, file: string): Promise<void> {
  const size = (await stat(file)).size;
  const started = performance.now();
  const client = await openFastboot(address);
  const downloadStarted = performance.now();
  await client.download(size, createReadStream(file, { highWaterMark: MiB }));
  const downloadMs = performance.now() - downloadStarted;
  await client.flash('system_b');
  const ms = performance.now() - started;
  await client.close();
  process.stdout.write(`${JSON.stringify({ ms, downloadMs, bytes: size })}\n`);
}

/** Child: read BYTES from the device end; prints the time from the first to the last byte. */
async function readChild(path: string, bytes: number): Promise<void> {
  const link = await openSerialStream({ path });
  process.stdout.write('ready\n');
  let got = 0;
  let first = 0;
  while (got < bytes) {
    const chunk = await link.read({ timeoutMs: 60_000 });
    if (got === 0) first = performance.now();
    got += chunk.byteLength;
  }
  const ms = performance.now() - first;
  await link.close();
  process.stdout.write(`${JSON.stringify({ ms, bytes: got })}\n`);
}

/** Child: write FILE into the host end, the way the client's transport writes (1 MiB chunks). */
async function writeChild(path: string, file: string): Promise<void> {
  const link = await openSerialStream({ path });
  const started = performance.now();
  let sent = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: MiB })) {
    await link.write(chunk as Buffer, { timeoutMs: 60_000 });
    sent += (chunk as Buffer).byteLength;
  }
  const ms = performance.now() - started;
  // Closing a pty drops what the other side has not read yet; the reader says when it has everything.
  process.stdout.write(`${JSON.stringify({ ms, bytes: sent })}\n`);
  await new Promise((r) => setTimeout(r, 60_000));
}

/** A raw copy of FILE across a fresh pair; the time is the reader's, first byte to last. */
async function rawCopy(dir: string, file: string, bytes: number): Promise<number> {
  const pair = await openPtyPair(join(dir, 'raw'));
  try {
    const reader = spawn(
      process.execPath,
      ['--import', 'tsx', self, '--read', pair.devicePath, String(bytes)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    const ready = new Promise<void>((resolve) => {
      reader.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready')) resolve();
      });
    });
    const done = new Promise<void>((resolve, reject) =>
      reader.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`reader exited with ${code}`)))),
    );
    await ready;
    const writer = spawn(process.execPath, ['--import', 'tsx', self, '--write', pair.hostPath, file], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await done;
    writer.kill();
    return (JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { ms: number }).ms;
  } finally {
    await pair.close();
  }
}

export async function run(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const rounds = Number(option(args, '--rounds') ?? 3);
  const size = Number(option(args, '--size') ?? 64) * MiB;
  if (!Number.isInteger(rounds) || rounds < 1 || !Number.isSafeInteger(size) || size < MiB) {
    process.stderr.write('usage: npm run bench -- serial [--json] [--rounds N] [--size MiB]\n');
    return 2;
  }
  const log = (line: string) => {
    if (!json) process.stderr.write(`${line}\n`);
  };
  const dir = await mkdtemp(join(tmpdir(), 'flashline-bench-serial-'));
  const host = await startDeviceHost({
    count: 1,
    rateBytesPerSecond: 0,
    maxDownloadSize: Math.max(size, 256 * MiB),
    bootDelayMs: 50,
    pty: true,
  });
  const address = host.addresses[0]!;
  const flashMs: number[] = [];
  const downloadMs: number[] = [];
  const rawMs: number[] = [];
  const rate = (ms: number) => size / 1e6 / (ms / 1000);
  try {
    const file = join(dir, 'image.img');
    await pipeline(
      makeVirtualImage({ size, version: '9.9.9', rollbackIndex: 1, seed: 'bench' }),
      createWriteStream(file),
    );
    // Warm-up (unmeasured): the first write allocates the partition file.
    await childRun(['--flash', address, file]);
    const flash = async () => {
      const r = await childRun(['--flash', address, file]);
      flashMs.push(r.ms);
      downloadMs.push(r.downloadMs);
      log(
        `flash over the pty: download ${rate(r.downloadMs).toFixed(1)} MB/s, whole flash ${rate(r.ms).toFixed(1)} MB/s`,
      );
    };
    const raw = async () => {
      const ms = await rawCopy(dir, file, size);
      rawMs.push(ms);
      log(`raw copy:           ${rate(ms).toFixed(1)} MB/s`);
    };
    for (let r = 0; r < rounds; r++)
      for (const measure of r % 2 ? [raw, flash] : [flash, raw]) await measure();
  } finally {
    await host.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const flashRate = rate(median(flashMs));
  const downloadRate = rate(median(downloadMs));
  const rawRate = rate(median(rawMs));
  const result = {
    image_mib: size / MiB,
    rounds,
    download_mb_s: Number(downloadRate.toFixed(1)),
    flash_mb_s: Number(flashRate.toFixed(1)),
    raw_copy_mb_s: Number(rawRate.toFixed(1)),
    ratio: Number((downloadRate / rawRate).toFixed(2)),
    whole_flash_ratio: Number((flashRate / rawRate).toFixed(2)),
    goal_ratio_met: downloadRate >= 0.8 * rawRate,
  };
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else
    process.stdout.write(
      `fastboot flash of a ${result.image_mib} MiB raw image over a socat pty pair, median of ${rounds}:\n` +
        `  download: ${result.download_mb_s} MB/s   raw copy over the same kind of pair: ${result.raw_copy_mb_s} MB/s   ratio ${result.ratio} (goal >= 0.8)\n` +
        `  whole flash (open + download + the device writing the partition): ${result.flash_mb_s} MB/s, ratio ${result.whole_flash_ratio}\n`,
    );
  return 0;
}

if (process.argv[1] === self) {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === '--flash' && a && b) await flashChild(a, b);
  else if (mode === '--read' && a && b) await readChild(a, Number(b));
  else if (mode === '--write' && a && b) await writeChild(a, b);
}
