import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  encodeShellPacket,
  parseShellService,
  ShellPacketParser,
} from '../../../main/protocol/adb/shell-v2.js';

describe('ADB shell v2 packets', () => {
  it('round-trips packets whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ id: fc.integer({ min: 0, max: 5 }), data: fc.uint8Array({ maxLength: 300 }) }), {
          maxLength: 8,
        }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
        (packets, cuts) => {
          const bytes = Buffer.concat(packets.map((p) => encodeShellPacket(p.id, p.data)));
          const parser = new ShellPacketParser();
          const got = [];
          for (let o = 0, i = 0; o < bytes.length; i++) {
            const n = cuts[i % cuts.length]!;
            got.push(...parser.push(bytes.subarray(o, o + n)));
            o += n;
          }
          assert.deepEqual(
            got.map((p) => ({ id: p.id, data: Buffer.from(p.data) })),
            packets.map((p) => ({ id: p.id, data: Buffer.from(p.data) })),
          );
          assert.equal(parser.pending, 0);
        },
      ),
    );
  });

  it('refuses an oversized packet instead of buffering it', () => {
    const header = encodeShellPacket(1, new Uint8Array(0));
    new DataView(header.buffer).setUint32(1, 2000, true);
    assert.throws(() => new ShellPacketParser(1000).push(header), /exceeds/);
  });

  it('parses shell service names', () => {
    assert.deepEqual(parseShellService('shell,v2,raw:getprop x'), {
      v2: true,
      args: ['v2', 'raw'],
      command: 'getprop x',
    });
    assert.deepEqual(parseShellService('shell:echo a:b'), { v2: false, args: [], command: 'echo a:b' });
    assert.equal(parseShellService('reboot:bootloader'), null);
  });
});
