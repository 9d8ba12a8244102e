/**
 * A real pty pair for the serial path, made by `socat` (a dependable tool that is on every Linux CI image;
 * node has no pty API without a native addon). The device opens one end with serialport, the host the other.
 *
 * One pair carries one host connection, as a USB-serial port carries one "plugged in" period: socat waits
 * for the host to open its end (`wait-slave`) and exits soon after the host closes it, so the device sees
 * the host hang up (end of stream) exactly as a real UART gadget sees DTR drop; and when the device closes
 * the pair (reboot, power cut), the host's open port is hung up like an unplugged adapter. The runner then
 * makes a fresh pair at the same paths, which is how a re-enumerated /dev/ttyACM0 comes back.
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
  /** Resolves when socat exits (the host hung up, or close()). */
  readonly exited: Promise<void>;
  /**
   * Stop socat and remove the links. With `flushMs`, first give socat that long to pass on what the device
   * wrote last (it exits by itself once the device has closed its end and the bytes are through).
   */
  close(flushMs?: number): Promise<void>;
}

export async function openPtyPair(dir: string, timeoutMs = 5000): Promise<PtyPair> {
  await fs.mkdir(dir, { recursive: true });
  const devicePath = join(dir, 'pty-device');
  const hostPath = join(dir, 'pty-host');
  await Promise.all([fs.rm(devicePath, { force: true }), fs.rm(hostPath, { force: true })]);
  let child: ChildProcess;
  try {
    // -t: once one side hung up, pass what is in flight for at most 50 ms, then exit.
    child = spawn(
      'socat',
      ['-t', '0.05', `pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,wait-slave,link=${hostPath}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
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
  const exitedPromise = new Promise<void>((resolve) => {
    child.on('exit', (code, sig) => {
      exited ??= `exit ${code ?? sig}`;
      resolve();
    });
    child.on('error', () => resolve());
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const close = async (flushMs = 0) => {
    if (flushMs > 0 && running()) await Promise.race([exitedPromise, sleep(flushMs)]);
    // socat removes its links when it exits; wait for that so it cannot remove the next pair's links.
    if (running()) {
      child.kill('SIGTERM');
      await Promise.race([exitedPromise, sleep(2000)]);
    }
    await Promise.all([fs.rm(devicePath, { force: true }), fs.rm(hostPath, { force: true })]);
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await Promise.all([fs.lstat(devicePath), fs.lstat(hostPath)]).then(
      () => true,
      () => false,
    );
    if (ok) return { devicePath, hostPath, exited: exitedPromise, close };
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
