import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import {
  AtClient,
  AtCommandError,
  AtProtocolError,
  identifyModem,
  isValidImei,
} from '../../../main/protocol/at/index.js';
import { createDuplexPair, memoryLink, TimeoutError } from '../../../main/transport/index.js';
import { AtResponder, type AtResponderOptions } from '../../../virtual-device/modem/at-responder.js';
import { ZTE_MIFI_IDENTITY } from '../../../virtual-device/modem/zte-mifi.js';

/** A client wired to a modem answering through `answer` (bytes in → bytes out). */
function wired(answer: (bytes: Uint8Array) => Uint8Array | string) {
  const [host, dev]: [Duplex, Duplex] = createDuplexPair();
  dev.on('data', (b: Buffer) => {
    const out = answer(new Uint8Array(b));
    if (out.length > 0) dev.write(out);
  });
  const link = memoryLink(host, 'test modem');
  return { client: new AtClient(link, { timeoutMs: 200, probeIntervalMs: 1 }), link };
}

function responder(extra: Partial<AtResponderOptions> = {}) {
  const r = new AtResponder({ identity: ZTE_MIFI_IDENTITY, onDownloadMode: () => {}, ...extra });
  return (b: Uint8Array) => r.push(b);
}

describe('AT client', () => {
  it('identifies a modem with echo on and URCs interleaved', async () => {
    const { client, link } = wired(responder({ urc: true }));
    const id = await identifyModem(client);
    assert.equal(id.manufacturer, 'ZTE CORPORATION');
    assert.equal(id.model, 'MF920V');
    assert.equal(id.revision, 'BD_MF920VV1.0.0B05');
    assert.equal(id.imei, ZTE_MIFI_IDENTITY.imei);
    assert.ok(client.unsolicited.includes('+CREG: 1'));
    await link.close();
  });

  it('falls back to the V.250 names and strips prefixes and quotes', async () => {
    const { client, link } = wired((b) => {
      const cmd = Buffer.from(b).toString().trim();
      const table: Record<string, string> = {
        AT: 'OK',
        ATI: 'OK',
        'AT+GMI': '+GMI: "Acme"\r\n\r\nOK',
        'AT+GMM': 'M1\r\n\r\nOK',
        'AT+GMR': 'R1\r\n\r\nOK',
        'AT+GSN': '12345\r\n\r\nOK',
      };
      return `\r\n${table[cmd] ?? 'ERROR'}\r\n`;
    });
    const id = await identifyModem(client);
    assert.deepEqual(
      { ...id, info: undefined },
      { manufacturer: 'Acme', model: 'M1', revision: 'R1', serial: '12345', info: undefined },
    );
    await link.close();
  });

  it('reports +CME ERROR with its number', async () => {
    const { client, link } = wired(responder());
    await assert.rejects(
      client.command('AT+CFUN=9'),
      (e: unknown) =>
        e instanceof AtCommandError && e.refusal.kind === 'cme' && e.deviceMessage === '+CME ERROR: 4',
    );
    await link.close();
  });

  it('a silent port ends in a typed timeout after the bounded probe', async () => {
    const { client, link } = wired(responder({ fault: 'silent' }));
    await assert.rejects(identifyModem(client), TimeoutError);
    await link.close();
  });

  it('binary noise is a typed protocol error', async () => {
    const { client, link } = wired(responder({ fault: 'garbage' }));
    await assert.rejects(identifyModem(client), AtProtocolError);
    await link.close();
  });

  it('validates IMEIs with Luhn', () => {
    assert.equal(isValidImei(ZTE_MIFI_IDENTITY.imei), true);
    assert.equal(isValidImei('490154203237518'), true);
    assert.equal(isValidImei('490154203237519'), false);
    assert.equal(isValidImei('49015420323751'), false);
  });
});
