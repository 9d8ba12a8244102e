/** enterModemEdl over an injected serial backend: the vendor table's steps, what is left to do, refusals. */
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { enterModemEdl, NoModeSwitchError } from '../../../main/devices/modem-actions.js';
import { AtCommandError } from '../../../main/protocol/at/index.js';
import { createDuplexPair, type SerialBackend } from '../../../main/transport/index.js';
import { AtResponder, type ModemIdentityConfig } from '../../../virtual-device/modem/at-responder.js';
import { ZTE_MIFI_IDENTITY } from '../../../virtual-device/modem/zte-mifi.js';

/** A serial backend whose one port is a modem answering with `identity`; `leave` drops the port on a switch. */
function modemBackend(identity: ModemIdentityConfig, leave: boolean): SerialBackend {
  return {
    list: async () => [],
    open: async () => {
      const [host, dev]: [Duplex, Duplex] = createDuplexPair();
      const r = new AtResponder({
        identity,
        onDownloadMode: () => leave && setImmediate(() => dev.destroy()),
      });
      dev.on('data', (b: Buffer) => dev.write(r.push(new Uint8Array(b))));
      return host;
    },
  };
}

const quick = { timeoutMs: 500, at: { timeoutMs: 500, probeIntervalMs: 1 } };

describe('enterModemEdl', () => {
  it('ZTE: AT+ZCDRUN=E; a unit that leaves needs nothing more here, "adb reboot edl" if it shows up over ADB', async () => {
    const r = await enterModemEdl('/dev/fake', { ...quick, backend: modemBackend(ZTE_MIFI_IDENTITY, true) });
    assert.equal(r.vendorFile, 'zte.json');
    assert.deepEqual(r.pending, []);
    assert.deepEqual(r.ifAdbAppears, [['reboot', 'edl']]);
  });

  it('ZTE: a unit that stays in ZTE download mode leaves "adb reboot edl" to the technician', async () => {
    const r = await enterModemEdl('/dev/fake', { ...quick, backend: modemBackend(ZTE_MIFI_IDENTITY, false) });
    assert.deepEqual(r.done, [{ step: { at: 'AT+ZCDRUN=E', answer: 'ok' }, outcome: 'OK' }]);
    assert.deepEqual(
      r.pending.map((p) => ('adb' in p ? p.adb : p)),
      [['reboot', 'edl']],
    );
  });

  it('Quectel without its DIAG port: refused before any switch is sent, saying which port to give', async () => {
    const quectel = { ...ZTE_MIFI_IDENTITY, manufacturer: 'Quectel', model: 'EG25' };
    await assert.rejects(
      enterModemEdl('/dev/fake', { ...quick, backend: modemBackend(quectel, false) }),
      (e: unknown) => e instanceof NoModeSwitchError && /--diag/.test(e.message),
    );
  });

  it('a modem refusing the vendor command ends in AtCommandError (exit 32)', async () => {
    const sierra = { ...ZTE_MIFI_IDENTITY, manufacturer: 'Sierra Wireless', model: 'EM7455' };
    await assert.rejects(
      enterModemEdl('/dev/fake', { ...quick, backend: modemBackend(sierra, false) }),
      (e: unknown) => e instanceof AtCommandError && e.command === 'AT!BOOTHOLD',
    );
  });
});
