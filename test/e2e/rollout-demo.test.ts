/**
 * End to end, `flashline demo --ota` as a user runs it (a separate process, its own FLASHLINE_HOME, no fleet
 * configured, so it starts its throw-away PostgreSQL): in Chromium the Fleet screen shows the devices' OTA
 * status codes arriving and the rollout per package filling from that database, and the demo's log shows the
 * station's sync resuming after the mirror dropped the connection.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { artifactsDir, type Browser, launchBrowser, projectRoot } from './browser.js';
import { LONG } from './ui-session.js';

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

describe('npm run demo -- --ota in Chromium', () => {
  test('devices update over the air, their codes and the rollout show on the Fleet screen; the sync resumes', {
    timeout: 240_000,
  }, async (t) => {
    const home = mkdtempSync(join(tmpdir(), 'flashline-e2e-ota-demo-'));
    // Two devices: both update (the third of the demo's default three would fall back on purpose).
    const child = spawn(
      process.execPath,
      ['bin/flashline.js', 'demo', '--ota', '--devices', '2', '--port', '0', '--ota-interval', '3600'],
      { cwd: projectRoot, env: { ...process.env, FLASHLINE_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    t.after(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
      rmSync(home, { recursive: true, force: true });
    });
    const log: string[] = [];
    const logged = (re: RegExp) =>
      new Promise<void>((resolve) => {
        const check = () => log.some((l) => re.test(l)) && resolve();
        createInterface({ input: child.stderr! }).on('line', (l) => {
          log.push(l);
          check();
        });
        check();
      });
    const resumed = logged(/Station sync: .* after 1 dropped connection/);
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (l) => {
        const m = /Open (http:\/\/\S+)/.exec(l);
        if (m?.[1]) resolve(m[1]);
      });
      exited.then((code) => reject(new Error(`the demo exited (${code}) before its URL: ${log.join('\n')}`)));
    });

    const page = await browser.context.newPage();
    t.after(() => page.close());
    await page.goto(url);
    await page.locator('[data-testid="connection"][data-state="connected"]').waitFor(LONG);
    await page.getByTestId('nav-fleet').click();
    for (const serial of ['OTA001', 'OTA002'])
      await page
        .locator(`[data-testid="rollout-device"][data-serial="${serial}"][data-status="0"]`)
        .waitFor(LONG);
    await page
      .locator('[data-testid="rollout-package"][data-package="flashline-demo"][data-installed="2"]')
      .waitFor(LONG);
    assert.match(
      (await page.getByTestId('rollout-counts').textContent()) ?? '',
      /received, \d+ stored, 0 dropped/,
    );
    await page.screenshot({ path: join(artifactsDir, 'ui-rollout-demo.png'), fullPage: true });
    await resumed;
    assert.ok(
      log.some((l) => /asked again from bytes=\d+- \(resuming\)/.test(l)),
      log.join('\n'),
    );
    assert.ok(
      log.some((l) => /throw-away PostgreSQL/.test(l)),
      log.join('\n'),
    );
  });
});
