/**
 * Every CLI command that starts work ends: run as a child process over TCP and over a pty, it exits by
 * itself after success and after failure (nothing left holding it: FLASHLINE_CHECK_EXIT makes a leak fail
 * the row), and after SIGTERM it stops safely within the bound. One row per command, link and outcome;
 * a new command (e.g. `line`) is one more entry in `rows`.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SerialPort } from 'serialport';
import { type DemoRig, startDemoRig } from '../../../main/cli/commands/demo.js';
import { ReportStore } from '../../../main/flash/report-store.js';
import { SMALL_PACKAGE, tempDir } from '../flash/helpers.js';
import { type ChildOptions, type ChildRun, describeRun, LEAK_EXIT_CODE, runFlashline } from './child.js';

const trustDir = fileURLToPath(new URL('../../../resources/keys', import.meta.url));
const tmp = tempDir('flashline-cli-exit-');
after(tmp.cleanup);

type Link = 'tcp' | 'pty' | '-';

/** What the rows work against: virtual devices (each on TCP and a pty), a signed package, a home. */
interface Rig {
  readonly demo: DemoRig;
  readonly home: string;
  readonly pkg: string;
  /** Device ids by role and link: `flash --device`. */
  id(role: Role, link: Link): string;
  /** The TCP address (HOST:PORT) or pty path of a device, as `devices --tcp/--serial` take them. */
  endpoint(role: Role, link: Link): string;
}

const ROLES = ['good', 'badBoot', 'slow', 'sluggish'] as const;
type Role = (typeof ROLES)[number];

interface Row {
  readonly command: string;
  readonly link: Link;
  readonly outcome: 'success' | 'failure' | 'sigterm';
  readonly args: (rig: Rig) => string[];
  readonly options?: (rig: Rig) => ChildOptions;
  /** Runs around the child (e.g. another program holding the port). */
  readonly around?: (rig: Rig, run: () => Promise<ChildRun>) => Promise<ChildRun>;
  readonly expect: (run: ChildRun, rig: Rig) => void | Promise<void>;
}

const flashArgs = (rig: Rig, role: Role, link: Link) => [
  'flash',
  rig.pkg,
  '--device',
  rig.id(role, link),
  '--trust',
  trustDir,
];

const exitsWith = (code: number, output?: RegExp) => (run: ChildRun) => {
  assert.equal(run.code, code, describeRun(run));
  if (output) assert.match(run.stdout + run.stderr, output, describeRun(run));
};

/** Stopped by SIGTERM: the job is left resumable, the device on its slot, and the same command resumes it. */
function stoppedThenResumed(role: Role, link: Link) {
  return async (run: ChildRun, rig: Rig) => {
    assert.ok(run.signalled, `the download never started: ${describeRun(run)}`);
    assert.equal(run.code, 18, describeRun(run));
    const jobId = /Left resumable: job (\S+) on/.exec(run.stdout)?.[1];
    assert.ok(jobId, `no resumable job named: ${describeRun(run)}`);
    const device = rig.demo.devices[ROLES.indexOf(role)]!;
    assert.equal(
      device.device.bootControl.active,
      device.device.bootedSlot,
      'a stop mid-download leaves the working slot active',
    );
    const again = await runFlashline(flashArgs(rig, role, link), { env: { FLASHLINE_HOME: rig.home } });
    assert.equal(again.code, 0, describeRun(again));
    const reports = await ReportStore.forHome(rig.home).list();
    const last = reports.filter((r) => r.jobId === jobId).at(-1);
    assert.ok(last && last.status === 0 && last.resumes >= 1, 'the rerun resumed the stopped job');
  };
}

/** Long-running commands: they run until SIGTERM, then stop cleanly with 0. */
const serves = (ready: RegExp) => ({
  options: () => ({ sigtermWhen: ready }),
  expect: (run: ChildRun) => {
    assert.ok(run.signalled, `never became ready: ${describeRun(run)}`);
    assert.equal(run.code, 0, describeRun(run));
  },
});

/** Killed by the signal before its handlers were up, or stopped by them: either way it ended in the bound. */
const endedBySignal = (run: ChildRun) => {
  assert.ok(run.signal === 'SIGTERM' || run.code === 143, describeRun(run));
};

const rows: Row[] = [
  // flash
  ...(['tcp', 'pty'] as const).flatMap((link): Row[] => [
    {
      command: 'flash',
      link,
      outcome: 'success',
      args: (rig) => flashArgs(rig, 'good', link),
      expect: exitsWith(0, /postcheck/),
    },
    {
      command: 'flash',
      link,
      outcome: 'failure',
      args: (rig) => flashArgs(rig, 'badBoot', link),
      expect: exitsWith(42, /booted_old_slot/),
    },
    {
      command: 'flash',
      link,
      outcome: 'sigterm',
      args: (rig) => flashArgs(rig, 'slow', link),
      options: () => ({ sigtermWhen: /: download\n/ }),
      expect: stoppedThenResumed('slow', link),
    },
  ]),
  {
    command: 'flash',
    link: 'pty',
    outcome: 'failure',
    args: (rig) => flashArgs(rig, 'good', 'pty'),
    // Another program holds the port: 15, naming the holder (this test process).
    around: async (rig, run) => {
      const port = new SerialPort({ path: rig.endpoint('good', 'pty'), baudRate: 115200, autoOpen: false });
      await new Promise<void>((ok, fail) => port.open((e) => (e ? fail(e) : ok())));
      try {
        return await run();
      } finally {
        await new Promise<void>((ok) => port.close(() => ok()));
      }
    },
    expect: exitsWith(15, new RegExp(`in use: another program holds it \\(pid ${process.pid}`)),
  },
  // line: the factory loop, one unit (`--force`: the shared home already holds passes of this package)
  ...(['tcp', 'pty'] as const).flatMap((link): Row[] => {
    const lineArgs = (rig: Rig, role: Role) => [
      'line',
      rig.pkg,
      '--device',
      rig.id(role, link),
      '--trust',
      trustDir,
      '--no-usb',
      '--no-list-serial',
      '--force',
      '--count',
      '1',
    ];
    return [
      {
        command: 'line',
        link,
        outcome: 'success',
        args: (rig) => lineArgs(rig, 'good'),
        expect: exitsWith(0),
      },
      {
        command: 'line',
        link,
        outcome: 'failure',
        args: (rig) => lineArgs(rig, 'badBoot'),
        expect: exitsWith(42),
      },
      {
        command: 'line',
        link,
        outcome: 'sigterm',
        args: (rig) => lineArgs(rig, 'slow'),
        options: () => ({ sigtermWhen: /: (flashing|resuming) \S+\n/ }),
        // Stopped mid-job: the job ends 18 (left resumable) and that is the line's result.
        expect: (run: ChildRun) => {
          assert.ok(run.signalled, `the job never started: ${describeRun(run)}`);
          assert.equal(run.code, 18, describeRun(run));
        },
      },
    ];
  }),
  // devices: identify, then release (each probe closes its link)
  ...(['tcp', 'pty'] as const).flatMap((link): Row[] => {
    const flag = link === 'tcp' ? '--tcp' : '--serial';
    const base = ['devices', '--no-usb', '--no-list-serial'];
    return [
      {
        command: 'devices',
        link,
        outcome: 'success',
        args: (rig) => [...base, flag, rig.endpoint('good', link)],
        expect: exitsWith(0, /fastboot\s+ready\s+product=flashline-virtual serial=DEMO001/),
      },
      {
        command: 'devices',
        link,
        outcome: 'failure',
        args: () => [...base, flag, link === 'tcp' ? '127.0.0.1:1' : '/dev/flashline-no-such-tty'],
        expect: exitsWith(0, /gone/),
      },
      {
        command: 'devices',
        link,
        outcome: 'sigterm',
        args: (rig) => [...base, '--timeout', '60000', flag, rig.endpoint('sluggish', link)],
        options: () => ({ sigtermWhen: /Identifying/ }),
        expect: exitsWith(143),
      },
    ];
  }),
  // ADB ids (#19): a bad id is refused before anything starts; a silent ADB endpoint is listed as gone
  {
    command: 'flash',
    link: '-',
    outcome: 'failure',
    args: (rig) => ['flash', rig.pkg, '--device', 'adb:phone-without-port', '--trust', trustDir],
    expect: exitsWith(2, /'adb:phone-without-port' is not an ADB endpoint; use adb:HOST:PORT/),
  },
  {
    command: 'devices',
    link: 'tcp',
    outcome: 'failure',
    args: () => ['devices', '--no-usb', '--no-list-serial', '--adb', '127.0.0.1:1'],
    expect: exitsWith(0, /adb:127\.0\.0\.1:1\s+unknown\s+gone/),
  },
  // verify (no device link)
  {
    command: 'verify',
    link: '-',
    outcome: 'success',
    args: (rig) => ['verify', rig.pkg, '--trust', trustDir],
    expect: exitsWith(0, /^OK /m),
  },
  {
    command: 'verify',
    link: '-',
    outcome: 'failure',
    args: (rig) => ['verify', rig.pkg, '--trust', join(rig.home, 'empty-trust')],
    expect: (run) => {
      assert.ok(run.code !== null && run.code >= 20 && run.code <= 29, describeRun(run));
    },
  },
  {
    command: 'verify',
    link: '-',
    outcome: 'sigterm',
    args: (rig) => ['verify', rig.pkg, '--trust', trustDir],
    options: () => ({ sigtermWhen: 'spawn' }),
    expect: endedBySignal,
  },
  // virtual-device
  {
    command: 'virtual-device',
    link: 'tcp',
    outcome: 'sigterm',
    args: () => ['virtual-device', '--tcp', '127.0.0.1:0', '--json', '--boot-delay', '50'],
    ...serves(/"address":"tcp:/),
  },
  {
    command: 'virtual-device',
    link: 'pty',
    outcome: 'sigterm',
    args: (rig) => ['virtual-device', '--pty', '--json', '--state', join(rig.home, 'vd-pty')],
    ...serves(/"address":"serial:/),
  },
  {
    command: 'virtual-device',
    link: 'tcp',
    outcome: 'failure',
    // The port is taken (by the rig's device): a clear error, and the process ends.
    args: (rig) => ['virtual-device', '--tcp', rig.endpoint('good', 'tcp'), '--json'],
    expect: (run) => {
      assert.equal(run.code, 1, describeRun(run));
      assert.match(run.stderr, /flashline: /);
    },
  },
  {
    command: 'virtual-device',
    link: 'pty',
    outcome: 'failure',
    args: (rig) => ['virtual-device', '--pty', '--json', '--state', join(rig.pkg, 'not-a-dir')],
    expect: (run) => {
      assert.equal(run.code, 1, describeRun(run));
      assert.match(run.stderr, /flashline: /);
    },
  },
  // station (discovers serial ports by listing; no device link of its own)
  {
    command: 'station',
    link: '-',
    outcome: 'sigterm',
    args: () => ['station', '--port', '0', '--json', '--no-usb'],
    ...serves(/"url":"http/),
  },
  {
    command: 'station',
    link: '-',
    outcome: 'failure',
    args: () => ['station', '--port', '0', '--host', '192.0.2.1', '--no-usb', '--no-serial'],
    expect: exitsWith(1, /Refusing to bind/),
  },
  // demo --no-ui (its own virtual devices, over TCP)
  {
    command: 'demo --no-ui',
    link: 'tcp',
    outcome: 'success',
    args: () => ['demo', '--no-ui', '--devices', '1'],
    expect: exitsWith(0, /DEMO001\s+0\s+ok/),
  },
  {
    command: 'demo --no-ui',
    link: 'tcp',
    outcome: 'sigterm',
    args: () => ['demo', '--no-ui', '--devices', '1'],
    options: () => ({ sigtermWhen: /: preflight\n/ }),
    // Stopped safely (18), or the flash of the small demo package won the race (0).
    expect: (run) => assert.ok(run.code === 18 || run.code === 0, describeRun(run)),
  },
];

describe('every command ends: after success, after failure, and within the bound after SIGTERM', () => {
  let rig: Rig;
  before(async () => {
    const home = join(tmp.dir, 'home');
    await fs.mkdir(join(home, 'empty-trust'), { recursive: true });
    const demo = await startDemoRig({
      devices: ROLES.length,
      dir: join(tmp.dir, 'rig'),
      pkg: SMALL_PACKAGE,
      device: { pty: true },
      faults: (i) =>
        ({
          good: undefined,
          badBoot: { badBoot: ['b' as const] },
          // Paced so a stop lands mid-download; slow answers so a stop lands mid-identification.
          slow: { rateBytesPerSecond: 1024 * 1024 },
          sluggish: { latencyMs: 2000 },
        })[ROLES[i]!],
    });
    const device = (role: Role) => demo.devices[ROLES.indexOf(role)]!;
    rig = {
      demo,
      home,
      pkg: demo.packagePath,
      id: (role, link) => (link === 'pty' ? `serial:${device(role).ptyPath}` : device(role).address),
      endpoint: (role, link) =>
        link === 'pty' ? (device(role).ptyPath ?? '') : device(role).address.replace(/^tcp:/, ''),
    };
  });
  after(async () => {
    await rig?.demo.stop();
  });

  for (const row of rows) {
    it(`${row.command} over ${row.link === '-' ? 'no device link' : row.link}: ${row.outcome}`, async () => {
      const options = { ...row.options?.(rig), env: { FLASHLINE_HOME: rig.home } };
      const start = () => runFlashline(row.args(rig), options);
      const run = row.around ? await row.around(rig, start) : await start();
      assert.ok(!run.killed, `the process did not end by itself: ${describeRun(run)}`);
      assert.notEqual(run.code, LEAK_EXIT_CODE, `something held the process open: ${describeRun(run)}`);
      await row.expect(run, rig);
    });
  }

  it('devices releases a serial port it identified: flash opens it right after', async () => {
    const listed = await runFlashline(['devices', '--no-usb', '--serial', rig.endpoint('good', 'pty')], {
      env: { FLASHLINE_HOME: rig.home },
    });
    assert.equal(listed.code, 0, describeRun(listed));
    const flashed = await runFlashline(flashArgs(rig, 'good', 'pty'), { env: { FLASHLINE_HOME: rig.home } });
    assert.equal(flashed.code, 0, describeRun(flashed));
  });
});
