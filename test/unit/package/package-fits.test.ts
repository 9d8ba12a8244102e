/**
 * checkPackageFits is the one package-against-device check: `verify`/open call it with what the caller
 * knows, preflight with what the device reports. Each refusal has its code and says what is wrong; facts a
 * device did not report are refused only where the package restricts them and only for a device.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlashlineError } from '../../../main/common/errors.js';
import { checkPackageFits, type DeviceFacts, type FitOptions } from '../../../main/package/head-checks.js';

const target = {
  products: ['phone-x'],
  hardwareRevisions: ['rev2', 'rev3'],
  minBootloaderVersion: '2.1',
  minFlashlineVersion: '0.5.0',
  rollbackIndex: 4,
};

async function refusal(facts: DeviceFacts, options: FitOptions = {}): Promise<FlashlineError | undefined> {
  try {
    await checkPackageFits(target, facts, options);
    return undefined;
  } catch (err) {
    assert.ok(err instanceof FlashlineError, String(err));
    return err;
  }
}

const fits: DeviceFacts = {
  product: 'phone-x',
  hardwareRevision: 'rev2',
  bootloaderVersion: '2.1.4',
  rollbackIndex: 4,
  flashlineVersion: '0.5.0',
};

describe('checkPackageFits', () => {
  it('accepts a device that fits, and checks nothing it is not told', async () => {
    assert.equal(await refusal(fits), undefined);
    assert.equal(await refusal({}), undefined);
  });

  const cases: [string, DeviceFacts, number, RegExp][] = [
    ['another product', { ...fits, product: 'phone-y' }, 27, /for phone-x, but the device is phone-y/],
    [
      'another hardware revision',
      { ...fits, hardwareRevision: 'rev1' },
      27,
      /revision\(s\) rev2, rev3; the device is rev1/,
    ],
    [
      'an older bootloader',
      { ...fits, bootloaderVersion: '2.0.9' },
      27,
      /bootloader 2.1 or newer; the device has 2.0.9/,
    ],
    [
      'an older Flashline',
      { ...fits, flashlineVersion: '0.4.2' },
      27,
      /Flashline 0.5.0 or newer; this is 0.4.2/,
    ],
    [
      'a device with a newer rollback index',
      { ...fits, rollbackIndex: 5 },
      26,
      /rollback index 4 is below the device's 5/,
    ],
  ];
  for (const [name, facts, code, message] of cases) {
    it(`refuses ${name} with ${code}`, async () => {
      const err = await refusal(facts);
      assert.equal(err?.code, code);
      assert.match(err?.message ?? '', message);
    });
  }

  it('refuses below the station record, for the device product or (without one) every product', async () => {
    const asked: string[] = [];
    const stationRollback = async (product: string) => {
      asked.push(product);
      return 6;
    };
    const err = await refusal(fits, { stationRollback });
    assert.equal(err?.code, 26);
    assert.match(err?.message ?? '', /already flashed phone-x with rollback index 6; the package has 4/);
    assert.equal(await refusal(fits, { stationRollback: async () => undefined }), undefined);
    await refusal({}, { stationRollback });
    assert.deepEqual(asked, ['phone-x', 'phone-x']);
  });

  it('refuses what a device did not report only where the package restricts it', async () => {
    const reported = { reported: true } as const;
    assert.match(
      (await refusal({ ...fits, product: undefined }, reported))?.message ?? '',
      /an unknown product/,
    );
    const hw = await refusal({ ...fits, hardwareRevision: undefined }, reported);
    assert.equal(hw?.code, 27);
    assert.match(hw?.message ?? '', /of unknown revision/);
    assert.match(
      (await refusal({ ...fits, bootloaderVersion: undefined }, reported))?.message ?? '',
      /an unknown version/,
    );
    assert.equal(await refusal({ ...fits, rollbackIndex: undefined }, reported), undefined);
    const open = { ...target, hardwareRevisions: undefined, minBootloaderVersion: undefined };
    await checkPackageFits(open, { product: 'phone-x' }, reported);
  });
});
