/**
 * The two Node clients of `npm run bench -- fastboot`, each run in its own child process
 * (`node --import tsx bench/_fastboot-clients.ts MODE ADDRESS FILE …`), printing one JSON line
 * `{ms, cpuMs}` measured around the transfer only (module loading excluded):
 *
 * - `raw`: the ceiling — a minimal Node loop that reads the file with `createReadStream` (1 MiB reads) and
 *   writes it to the loopback socket, announcing each max-download-size piece with `download:` and waiting
 *   for the OKAY, nothing else (no planning, no sparse headers, no `flash`).
 * - `flashline`: the engine's path for one image — the piece planner and sender a job uses
 *   (main/flash/send-pieces.ts) over the engine's fastboot session and TCP transport, fed by
 *   `readFileChunks` (main/common/file-chunks.ts: two reused 4 MiB buffers, read ahead).
 * - `engine`: a whole job of the flash service (FlashService: package verification, journal, preflight to
 *   postcheck) flashing the package FILE; prints the download stage's own time and bytes from the report
 *   (`stageMs`, `stageBytes`) beside the job's.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { readFileChunks } from '../main/common/file-chunks.js';
import { FastbootConnector } from '../main/flash/adapters/fastboot.js';
import { flashPlannedImage } from '../main/flash/send-pieces.js';
import { FlashService } from '../main/flash/service.js';

const MiB = 1024 * 1024;

function frame(text: string): Buffer {
  const payload = Buffer.from(text, 'latin1');
  const out = Buffer.alloc(8 + payload.byteLength);
  out.writeBigUInt64BE(BigInt(payload.byteLength));
  payload.copy(out, 8);
  return out;
}

/** The smallest reader the raw loop needs: the 4-byte handshake, then whole response frames. */
class Replies {
  #buf = Buffer.alloc(0);
  #wake: (() => void) | null = null;

  constructor(socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#wake?.();
    });
    socket.on('close', () => this.#wake?.());
  }

  async take(n: number): Promise<Buffer> {
    while (this.#buf.byteLength < n) await new Promise<void>((r) => (this.#wake = r));
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  async reply(): Promise<string> {
    const len = Number((await this.take(8)).readBigUInt64BE());
    return (await this.take(len)).toString('latin1');
  }
}

async function raw(host: string, port: number, file: string, maxDownload: number): Promise<void> {
  const size = (await stat(file)).size;
  const socket = connect({ host, port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.setNoDelay(true);
  const replies = new Replies(socket);
  socket.write('FB01');
  if ((await replies.take(4)).toString() !== 'FB01') throw new Error('no fastboot handshake');
  for (let start = 0; start < size; start += maxDownload) {
    const n = Math.min(maxDownload, size - start);
    socket.write(frame(`download:${n.toString(16).padStart(8, '0')}`));
    const ready = await replies.reply();
    if (!ready.startsWith('DATA')) throw new Error(`device said ${ready}`);
    const header = Buffer.alloc(8);
    header.writeBigUInt64BE(BigInt(n));
    socket.write(header);
    for await (const chunk of createReadStream(file, { start, end: start + n - 1, highWaterMark: MiB })) {
      if (!socket.write(chunk as Buffer)) await new Promise((r) => socket.once('drain', r));
    }
    const done = await replies.reply();
    if (!done.startsWith('OKAY')) throw new Error(`device said ${done}`);
  }
  socket.end();
}

async function flashline(address: string, file: string, pieceSize: number): Promise<void> {
  const size = (await stat(file)).size;
  const signal = new AbortController().signal;
  const session = await new FastbootConnector().connect(address, { signal });
  await flashPlannedImage(session, 'system_b', { size, sparse: false }, () => readFileChunks(file), {
    signal,
    pieceSize,
  });
  await session.close();
}

/** One job of the flash service against the device; returns the download stage's time and bytes. */
async function engine(
  address: string,
  pkg: string,
  pieceSize: number,
  home: string,
): Promise<{ stageMs: number; stageBytes: number; status: number }> {
  const service = new FlashService({ home, concurrency: 1, engine: { pieceSize } });
  const [id] = await service.flash(pkg, [address]);
  if (!id) throw new Error('the flash service started no job');
  const report = await service.manager.wait(id);
  if (report.status !== 0) throw new Error(`the job ended ${report.status}: ${report.message}`);
  const downloads = report.stages.filter((s) => s.stage === 'download');
  const stageMs = downloads.reduce(
    (a, s) => a + Date.parse(s.endedAt ?? s.startedAt) - Date.parse(s.startedAt),
    0,
  );
  return { stageMs, stageBytes: downloads.reduce((a, s) => a + s.bytes, 0), status: report.status };
}

const [mode, address = '', file = '', arg = '', home = ''] = process.argv.slice(2);
const m = /^tcp:([^:]+):(\d+)$/.exec(address);
if (
  !['raw', 'flashline', 'engine'].includes(mode ?? '') ||
  !m ||
  !file ||
  !/^\d+$/.test(arg) ||
  (mode === 'engine' && !home)
) {
  process.stderr.write(
    'usage: _fastboot-clients.ts raw|flashline|engine tcp:HOST:PORT FILE MAX_DOWNLOAD|PIECE_BYTES [HOME]\n',
  );
  process.exit(2);
}
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let extra = {};
if (mode === 'raw') await raw(m[1]!, Number(m[2]), file, Number(arg));
else if (mode === 'flashline') await flashline(address, file, Number(arg));
else extra = await engine(address, file, Number(arg), home);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(`${JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, ...extra })}\n`);
