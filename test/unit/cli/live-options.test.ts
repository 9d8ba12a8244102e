/** The live-bus flags of `station` and `line`: bad values are one-line errors with exit 2, nothing started. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flashline } from './run-cli.js';

test('a broker URL that is not mqtt:// or mqtts:// is refused with what to give', () => {
  for (const command of [['station'], ['line', 'x.flp']]) {
    const r = flashline(...command, '--mqtt', 'http://broker:1883');
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /'http:\/\/broker:1883' is not a broker URL \(mqtt:\/\/HOST:PORT or mqtts:\/\/HOST:PORT\)/,
    );
    assert.equal(r.stdout, '');
  }
});

test('a station name that cannot be one topic level is refused', () => {
  const r = flashline('line', 'x.flp', '--station-name', 'line/7');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /'line\/7' is not a station name/);
});

test('--embed-broker takes a port', () => {
  const r = flashline('station', '--embed-broker', 'mqtt');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /'mqtt' is not a TCP port/);
});
