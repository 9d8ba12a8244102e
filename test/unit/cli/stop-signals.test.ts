/**
 * The one stop policy: the first signal asks for a safe stop; a second signal, or a stop that outlasts the
 * grace period, exits at once with 130/143 and says what it leaves behind. Run in a child process (the policy
 * exits the process).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const policy = fileURLToPath(new URL('../../../main/cli/stop-signals.ts', import.meta.url));

interface Child {
  /** Send SIGTERM. */
  readonly term: () => void;
  readonly done: Promise<{ code: number | null; stderr: string }>;
}

/** A child that installs the policy with an onStop that never finishes, then idles; resolves when ready. */
async function child(graceMs: number): Promise<Child> {
  const script = `
    const { handleStopSignals } = await import(${JSON.stringify(policy)});
    handleStopSignals({ onStop: () => {}, graceMs: ${graceMs}, describe: () => 'stopping 1 job',
      leftBehind: () => 'job J stays resumable' });
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);`;
  const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const killer = setTimeout(() => p.kill('SIGKILL'), 60_000);
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    p.once('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stderr });
    }),
  );
  await new Promise<void>((resolve) => p.stdout.once('data', () => resolve()));
  return { term: () => p.kill('SIGTERM'), done };
}

describe('handleStopSignals', () => {
  it('a second signal exits at once with 143, naming what is left behind', async () => {
    const c = await child(60_000);
    c.term();
    await new Promise((r) => setTimeout(r, 300));
    c.term();
    const { code, stderr } = await c.done;
    assert.equal(code, 143);
    assert.match(stderr, /SIGTERM: stopping 1 job; press Ctrl-C again/);
    assert.match(stderr, /SIGTERM again: exiting now\.\njob J stays resumable/);
  });

  it('a stop that outlasts the grace period exits with 143', async () => {
    const c = await child(200);
    c.term();
    const { code, stderr } = await c.done;
    assert.equal(code, 143);
    assert.match(stderr, /still not stopped after 0 s: exiting\.\njob J stays resumable/);
  });
});
