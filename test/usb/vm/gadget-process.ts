/**
 * The gadget process inside the VM (/app/gadget.mjs = virtual-device/usb-gadget/serve.ts): start it with
 * JSON options, wait for its `ready` line, stop it (SIGTERM unbinds its gadget, freeing the UDC).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

export interface GadgetProcess {
  child: ChildProcess;
  ready: Promise<{ stateDir: string; udc: string }>;
  lines: string[];
}

export function startGadget(
  options: Record<string, unknown> = {},
  env: Record<string, string> = {},
): GadgetProcess {
  const child = spawn(process.execPath, ['/app/gadget.mjs', JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, UV_THREADPOOL_SIZE: '8', ...env },
  });
  const lines: string[] = [];
  const ready = new Promise<{ stateDir: string; udc: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('gadget did not report ready within 60 s')), 60_000);
    child.once('exit', (code) => reject(new Error(`gadget exited with ${code}: ${lines.join(' | ')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      console.log(`gadget| ${line}`);
      try {
        const msg = JSON.parse(line) as {
          gadget?: string;
          stateDir?: string;
          udc?: string;
          message?: string;
        };
        if (msg.gadget === 'ready' && msg.stateDir && msg.udc) {
          clearTimeout(timer);
          resolve({ stateDir: msg.stateDir, udc: msg.udc });
        } else if (msg.gadget === 'error') reject(new Error(`gadget: ${msg.message}`));
      } catch {
        // not a report line
      }
    });
  });
  ready.catch(() => {});
  return { child, ready, lines };
}

/** SIGTERM (the gadget unbinds and exits), SIGKILL after 10 s. */
export async function stopGadget(g: GadgetProcess): Promise<void> {
  if (g.child.exitCode !== null || g.child.signalCode !== null) return;
  const exited = once(g.child, 'exit');
  g.child.kill('SIGTERM');
  const done = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
  if (!done) {
    g.child.kill('SIGKILL');
    await exited;
  }
}
