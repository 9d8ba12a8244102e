import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AtAnswerCollector, AtLineSplitter, finalResult } from '../../../main/protocol/at/lines.js';

/** Split bytes at arbitrary points. */
function chunk(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

const infoLine = fc
  .stringMatching(/^[A-Za-z0-9][A-Za-z0-9 .:_-]{0,30}[A-Za-z0-9]$/)
  .filter((l) => finalResult(l) === null && l !== 'RING');

describe('AT line parser', () => {
  it('recovers echo-less information lines and the final result under any chunking, echo on or off', () => {
    fc.assert(
      fc.property(
        fc.array(infoLine, { maxLength: 5 }),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 8 }),
        (lines, echo, urc, cuts) => {
          const command = 'AT+CGMR';
          const wire = `${echo ? `${command}\r` : ''}${urc ? '\r\n+CREG: 1\r\n' : ''}${lines.map((l) => `\r\n${l}\r\n`).join('')}\r\nOK\r\n`;
          const splitter = new AtLineSplitter();
          const collector = new AtAnswerCollector(command);
          let answer = null;
          for (const piece of chunk(new TextEncoder().encode(wire), cuts))
            for (const line of splitter.push(piece)) answer ??= collector.feed(line);
          assert.ok(answer);
          assert.deepEqual(answer.lines, lines);
          assert.deepEqual(answer.unsolicited, urc ? ['+CREG: 1'] : []);
          assert.deepEqual(answer.final, { kind: 'ok' });
        },
      ),
    );
  });

  it('classifies final results (V.250 and 3GPP TS 27.007 §9.2)', () => {
    assert.deepEqual(finalResult('OK'), { kind: 'ok' });
    assert.deepEqual(finalResult('ERROR'), { kind: 'error' });
    assert.deepEqual(finalResult('+CME ERROR: 10'), { kind: 'cme', code: '10' });
    assert.deepEqual(finalResult('+CMS ERROR: 500'), { kind: 'cms', code: '500' });
    assert.deepEqual(finalResult('CONNECT 115200'), { kind: 'connect', text: 'CONNECT 115200' });
    assert.deepEqual(finalResult('NO CARRIER'), { kind: 'other', text: 'NO CARRIER' });
    assert.equal(finalResult('+CGMI: ZTE'), null);
  });

  it('keeps a command-named line as information and other +NAME lines as unsolicited', () => {
    const c = new AtAnswerCollector('AT+CGSN');
    assert.equal(c.feed('+CGSN: 866123045678906'), null);
    assert.equal(c.feed('^RSSI: 12'), null);
    const a = c.feed('OK');
    assert.deepEqual(a?.lines, ['+CGSN: 866123045678906']);
    assert.deepEqual(a?.unsolicited, ['^RSSI: 12']);
  });
});
