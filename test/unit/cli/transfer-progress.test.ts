import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { transferProgressPrinter } from '../../../main/cli/transfer-progress.js';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { out: { isTTY, write: (s: string) => chunks.push(s) > 0 }, chunks };
}

describe('transfer progress on stderr', () => {
  it('in a log: whole lines, the first report and the end of each item, never a carriage return', () => {
    const { out, chunks } = sink(false);
    const p = transferProgressPrinter(out);
    p.show({ what: 'boot', bytesDone: 0, bytesTotal: 2e6, rate: 1e6, etaSeconds: 2 });
    p.show({ what: 'boot', bytesDone: 1e6, bytesTotal: 2e6, rate: 1e6 }); // within the second: dropped
    p.show({ what: 'boot', bytesDone: 2e6, bytesTotal: 2e6, rate: 1e6 });
    p.show({ what: 'system', bytesDone: 5e5, bytesTotal: 1e6, rate: 5e5, etaSeconds: 1 });
    p.show({ what: 'userdata', bytesDone: 0, bytesTotal: 1e6, rate: 0, etaSeconds: null });
    p.end();
    assert.deepEqual(chunks, [
      'boot: 0.0/2.0 MB  1.0 MB/s  ETA 2 s\n',
      'boot: 2.0/2.0 MB  1.0 MB/s\n',
      'system: 0.5/1.0 MB  0.5 MB/s  ETA 1 s\n',
      'userdata: 0.0/1.0 MB  0.0 MB/s  ETA ?\n',
    ]);
  });

  it('on a terminal: one redrawn line per item, a newline when the item changes and at the end', () => {
    const { out, chunks } = sink(true);
    const p = transferProgressPrinter(out);
    p.show({ what: 'a', bytesDone: 1e6, bytesTotal: 1e6, rate: 1e6 });
    p.show({ what: 'b', bytesDone: 0, bytesTotal: 1e6, rate: 0, etaSeconds: 3 });
    p.end();
    assert.deepEqual(chunks, [
      '\ra: 1.0/1.0 MB  1.0 MB/s\x1b[K',
      '\n',
      '\rb: 0.0/1.0 MB  0.0 MB/s  ETA 3 s\x1b[K',
      '\n',
    ]);
  });
});
