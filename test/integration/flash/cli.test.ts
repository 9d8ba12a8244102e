import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { startDemoRig } from '../../../main/cli/commands/demo.js';
import { runFlash } from '../../../main/cli/commands/flash.js';
import { FlashService } from '../../../main/flash/service.js';
import { FAST_ENGINE, SMALL_PACKAGE, tempDir } from './helpers.js';

const tmp = tempDir('flashline-cli-');
after(tmp.cleanup);

async function capture(run: (out: PassThrough) => Promise<number>): Promise<{ code: number; text: string }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => {
    text += d.toString();
  });
  const code = await run(out);
  return { code, text };
}

describe('flashline flash (in-process)', () => {
  it('several devices: summary table, exit code = first non-zero status', async () => {
    const rig = await startDemoRig({
      devices: 3,
      dir: join(tmp.dir, 'rig'),
      pkg: SMALL_PACKAGE,
      faults: (i) => (i === 1 ? { badBoot: ['b'] } : undefined),
    });
    try {
      const service = new FlashService({ home: join(tmp.dir, 'home'), concurrency: 3, engine: FAST_ENGINE });
      const ids = rig.devices.map((d) => d.address);
      const { code, text } = await capture((out) =>
        runFlash(rig.packagePath, { device: ids, concurrency: 3, json: false, service, out }),
      );
      assert.equal(code, 42);
      assert.match(text, /device\s+serial\s+code\s+status\s+rate\s+result/);
      assert.match(text, new RegExp(`${ids[1]}\\s+DEMO002\\s+42\\s+booted_old_slot`));
      assert.match(text, new RegExp(`${ids[0]}\\s+DEMO001\\s+0\\s+ok`));
      assert.match(text, /what to do:/);
    } finally {
      await rig.stop();
    }
  });

  it('--json: one JSON object per line, progress never backwards within a stage', async () => {
    const rig = await startDemoRig({ devices: 1, dir: join(tmp.dir, 'rig2'), pkg: SMALL_PACKAGE });
    try {
      const service = new FlashService({ home: join(tmp.dir, 'home2'), concurrency: 1, engine: FAST_ENGINE });
      const { code, text } = await capture((out) =>
        runFlash(rig.packagePath, {
          device: [rig.devices[0]!.address],
          concurrency: 1,
          json: true,
          service,
          out,
        }),
      );
      assert.equal(code, 0);
      const events = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; stage?: string; bytesDone?: number; jobId: string });
      assert.ok(events.every((e) => typeof e.jobId === 'string'));
      assert.equal(events.at(-1)?.type, 'end');
      const seen = new Map<string, number>();
      for (const e of events.filter((x) => x.type === 'progress')) {
        assert.ok((e.bytesDone ?? 0) >= (seen.get(e.stage!) ?? 0));
        seen.set(e.stage!, e.bytesDone ?? 0);
      }
    } finally {
      await rig.stop();
    }
  });
});
