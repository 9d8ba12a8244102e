/**
 * A real pty pair for the serial path, made by `socat` (a dependable tool that is on every Linux CI image;
 * node has no pty API without a native addon). The device opens one end with serialport, the host the other.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlashlineError } from '../main/common/errors.js';

export interface PtyPair {
  /** The end the virtual device opens. */
  readonly devicePath: string;
  /** The end a host (Flashline's serial transport, a terminal) opens. */
  readonly hostPath: string;
  close(): Promise<void>;
}

export async function openPtyPair(dir: string, timeoutMs = 5000): Promise<PtyPair> {
  await fs.mkdir(dir, { recursive: true });
  const devicePath = join(dir, 'pty-device');
  const hostPath = join(dir, 'pty-host');
  await Promise.all([fs.rm(devicePath, { force: true }), fs.rm(hostPath, { force: true })]);
  let child: ChildProcess;
  try {
    child = spawn('socat', [`pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,link=${hostPath}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (err) {
    throw new FlashlineError('pty_unavailable', `could not start socat for a pty pair: ${String(err)}`);
  }
  let exited: string | null = null;
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-500);
  });
  child.on('error', (err) => {
    exited = err.message;
  });
  child.on('exit', (code, sig) => {
    exited ??= `exit ${code ?? sig}`;
  });
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(2000)]);
    }
    await Promise.all([fs.rm(devicePath, { force: true }), fs.rm(hostPath, { force: true })]);
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await Promise.all([fs.lstat(devicePath), fs.lstat(hostPath)]).then(
      () => true,
      () => false,
    );
    if (ok) return { devicePath, hostPath, close };
    if (exited !== null || Date.now() > deadline) {
      await close();
      throw new FlashlineError(
        'pty_unavailable',
        `socat did not create a pty pair (${exited ?? 'timed out'}${stderr ? `: ${stderr.trim()}` : ''}). ` +
          'Install socat (apt-get install socat) or use --tcp.',
      );
    }
    await sleep(20);
  }
}
