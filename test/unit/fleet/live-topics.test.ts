import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodePort, deviceTopic, encodePort, parseTopic } from '../../../main/fleet/live/topics.js';

describe('live bus topics', () => {
  it('a device id is one topic level and decodes back exactly', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 60 }), (id) => {
        const level = encodePort(id);
        assert.doesNotMatch(level, /[/+#]/);
        assert.equal(decodePort(level), id);
      }),
    );
  });

  it('parses what it builds and ignores topics outside the layout', () => {
    const a = { site: 'plant-1', station: 'line.7' };
    assert.deepEqual(parseTopic(deviceTopic(a, 'serial:/dev/ttyUSB0', 'state')), {
      kind: 'state',
      site: 'plant-1',
      station: 'line.7',
      deviceId: 'serial:/dev/ttyUSB0',
    });
    assert.deepEqual(parseTopic('flashline/plant-1/line.7/status'), {
      kind: 'status',
      site: 'plant-1',
      station: 'line.7',
    });
    for (const t of [
      'other/plant-1/line.7/status',
      'flashline/plant-1/line.7/x/y/state',
      'flashline/plant-1/line.7/tcp:1/other',
      'flashline/-bad/line.7/status',
    ]) {
      assert.equal(parseTopic(t), null, t);
    }
  });
});
