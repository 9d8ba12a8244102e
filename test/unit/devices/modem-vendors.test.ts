import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadModemVendors, matchModemVendor } from '../../../main/devices/modem-vendors.js';

describe('modem vendor table', () => {
  it('loads the shipped table and matches by AT identity, specific entries before the DIAG fallback', () => {
    const vendors = loadModemVendors();
    assert.ok(vendors.length >= 4);
    const zte = matchModemVendor(vendors, { manufacturer: 'ZTE CORPORATION', model: 'MF920V' }, 'edl');
    assert.deepEqual(zte?.edl?.[0], { at: 'AT+ZCDRUN=E', answer: 'ok' });
    assert.deepEqual(
      matchModemVendor(vendors, { manufacturer: 'Quectel', model: 'EG25' }, 'fastboot')?.fastboot?.[0],
      { at: 'AT+QFASTBOOT', answer: 'maybe' },
    );
    assert.deepEqual(
      matchModemVendor(vendors, { manufacturer: 'Sierra Wireless, Incorporated' }, 'edl')?.edl?.[0],
      { at: 'AT!BOOTHOLD', answer: 'ok' },
    );
    assert.deepEqual(matchModemVendor(vendors, { manufacturer: 'Unknown Co' }, 'edl')?.edl, [
      { diag: 'edl' },
    ]);
  });

  it('refuses a bad file naming the file and the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'modems-'));
    try {
      writeFileSync(
        join(dir, 'bad.json'),
        JSON.stringify({
          name: 'x',
          match: { model: '(' },
          source: 's',
          edl: [{ at: 'AT+X', answer: 'ok' }],
        }),
      );
      assert.throws(
        () => loadModemVendors(dir),
        /modem table bad\.json: field match\.model: not a valid regular expression/,
      );
      writeFileSync(
        join(dir, 'bad.json'),
        JSON.stringify({ name: 'x', match: {}, source: 's', edl: [{ at: 'rm -rf', answer: 'ok' }] }),
      );
      assert.throws(() => loadModemVendors(dir), /bad\.json: field edl\.0/);
      writeFileSync(join(dir, 'bad.json'), '{');
      assert.throws(() => loadModemVendors(dir), /modem table bad\.json is not JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
