/**
 * A connection that drops in the middle of the download: the agent asks again with `Range: bytes=N-` from
 * where the bytes stopped (not from the start) and the update ends 0 — against a mirror that serves the real
 * repository files (sirv) and cuts the first image-data response after 1 MiB.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hostileMirror, type RepoServer } from '../repo/fixture.js';
import { makeOtaWorld, type OtaWorld, partitionSha, sha256 } from './fixture.js';

describe('OTA agent: resume after a dropped connection', () => {
  let world: OtaWorld;
  let mirror: RepoServer;
  const ranges: string[] = [];
  before(async () => {
    world = await makeOtaWorld({ systemBytes: 5 * 1024 * 1024 });
    let dropped = false;
    mirror = await hostileMirror(world.repoDir, (req, res, serve) => {
      const range = req.headers.range;
      if (req.url?.includes('/targets/')) ranges.push(range ?? 'whole file');
      // The stream after the head (a range from beyond byte 0): cut it once, 1 MiB in.
      if (!dropped && req.url?.includes('/targets/') && range && !range.startsWith('bytes=0-')) {
        dropped = true;
        let sent = 0;
        const write = res.write.bind(res);
        res.write = ((chunk: Buffer, ...rest: never[]) => {
          sent += chunk.length;
          if (sent > 1024 * 1024) {
            req.socket.destroy();
            return false;
          }
          return write(chunk, ...rest);
        }) as typeof res.write;
      }
      serve();
    });
  });
  after(async () => {
    await mirror?.close();
    await world?.close();
  });

  it('resumes with a range request from where the bytes stopped and ends 0', async () => {
    const d = await world.startDevice({ ota: world.agentOptions({ url: mirror.url }) });
    const result = await d.ota!.pollNow();
    assert.equal(result.outcome === 'attempt' && result.status, 0);
    assert.equal(d.device.runningVersion, world.version);
    assert.equal(await partitionSha(d, 'system_b'), sha256(world.images.system));
    const streams = ranges
      .filter((r) => !r.startsWith('bytes=0-'))
      .map((r) => Number(/^bytes=(\d+)-$/.exec(r)?.[1]));
    assert.equal(streams.length, 2, `one drop, one resume (ranges: ${ranges.join(' ')})`);
    const [first, second] = streams as [number, number];
    assert.ok(second > first + 512 * 1024, `resumed at ${second}, after the ${first} it started from`);
  });
});
