/**
 * Firehose client against a scripted device on an in-process pipe: logs that arrive after the response
 * belong to it (and to a NAK's error), and a configure NAK carrying a payload size is a counter-offer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildXml,
  FirehoseClient,
  FirehoseNakError,
  FirehoseReader,
  parseXml,
} from '../../../main/protocol/firehose/index.js';
import { createDuplexPair, streamLink } from '../../../main/transport/index.js';

function scriptedDevice(answer: (cmd: string, attrs: Record<string, string>) => string[]) {
  const [hostEnd, deviceEnd] = createDuplexPair();
  const device = streamLink(deviceEnd, 'device');
  const reader = new FirehoseReader(device);
  const seen: Record<string, string>[] = [];
  void (async () => {
    for (;;) {
      const doc = parseXml(await reader.nextDocument({ timeoutMs: 5000 }).catch(() => '<data/>'));
      const cmd = doc.children[0];
      if (!cmd) return;
      seen.push({ ...cmd.attrs });
      for (const d of answer(cmd.tag, cmd.attrs)) await device.write(Buffer.from(d));
    }
  })();
  return { host: streamLink(hostEnd, 'host'), device, seen };
}

const log = (v: string) => buildXml([{ tag: 'log', attrs: { value: v } }]);
const resp = (attrs: Record<string, string>) => buildXml([{ tag: 'response', attrs }]);

describe('Firehose client', () => {
  it('keeps logs sent after a NAK in the error', async () => {
    const { host, device } = scriptedDevice(() => [
      log('before'),
      resp({ value: 'NAK' }),
      log('after the response'),
    ]);
    const client = new FirehoseClient(host);
    const err = await client.nop().then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof FirehoseNakError);
    assert.deepEqual(err.deviceLog, ['before', 'after the response']);
    assert.deepEqual(client.log, ['before', 'after the response']);
    await host.close();
    await device.close();
  });

  it('configures again with the counter-offer of a NAK', async () => {
    const { host, device, seen } = scriptedDevice((_cmd, a) =>
      Number(a.MaxPayloadSizeToTargetInBytes) > 65536
        ? [resp({ value: 'NAK', MaxPayloadSizeToTargetInBytes: '65536' })]
        : [resp({ value: 'ACK', MaxPayloadSizeToTargetInBytes: '65536', MaxXMLSizeInBytes: '4096' })],
    );
    const cfg = await new FirehoseClient(host).configure('emmc');
    assert.equal(cfg.maxPayloadToTarget, 65536);
    assert.deepEqual(
      seen.map((a) => a.MaxPayloadSizeToTargetInBytes),
      ['1048576', '65536'],
    );
    assert.equal(seen[0]!.MemoryName, 'emmc');
    await host.close();
    await device.close();
  });
});
