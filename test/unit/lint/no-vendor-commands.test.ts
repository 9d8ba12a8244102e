/**
 * Issue #19's rule: no engine file (main/flash/**) names a vendor command, vendor variable or Android
 * property; those live in the capability layer (main/devices/capabilities.ts, profiles.ts) and the profiles
 * (resources/devices/*.json), and the engine consults the detected record. A hit fails with file and line.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';

const root = new URL('../../../', import.meta.url).pathname;

/** What only a capability record may spell. */
const FORBIDDEN: readonly (readonly [what: string, pattern: RegExp])[] = [
  ['a vendor fastboot command (oem …)', /\boem[ :]+[a-z0-9-]/i],
  ['a literal vendor command argument list', /\.oem\(\s*\[/],
  ['the device-side hash command', /\[\s*['"`]sha256['"`]/],
  ['a vendor commit command', /mark-successful/],
  ['a vendor variable', /\b(rollback-index|running-version|battery-level|free-space)\b/],
  ['an Android property', /\b(ro\.(build|boot|product|serialno)[\w.]*|sys\.boot_completed)\b/],
  ['an Android commit tool', /\b(bootctl|update_verifier)\b/],
  // Issue #13: fastbootd and dynamic partitions live in the capability layer and the fastboot client.
  ['a fastbootd command on the wire', /\b(update-super|(create|resize|delete)-logical-partition):/],
  ['a reboot command on the wire', /\breboot-(fastboot|bootloader)\b/],
  ['a dynamic-partitions variable', /(super-partition-name|is-logical:|['"`]is-userspace['"`])/],
];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

export function vendorNames(text: string): { line: number; what: string; text: string }[] {
  const hits: { line: number; what: string; text: string }[] = [];
  text.split('\n').forEach((line, i) => {
    for (const [what, pattern] of FORBIDDEN) {
      if (pattern.test(line)) hits.push({ line: i + 1, what, text: line.trim() });
    }
  });
  return hits;
}

describe('no vendor commands in the engine', () => {
  test('the patterns catch what they are meant to', () => {
    assert.equal(vendorNames("await s.oem(['sha256', part], o);").length, 2);
    assert.equal(vendorNames("const v = await getvar(ctx, 'running-version');").length, 1);
    assert.equal(vendorNames("props.get('ro.boot.slot_suffix')").length, 1);
    assert.equal(vendorNames('`oem mark-successful`').length, 2);
    assert.equal(vendorNames("const slot = await getvar(ctx, 'current-slot');").length, 0);
    assert.equal(vendorNames("s.command('update-super:' + name)").length, 1);
    assert.equal(vendorNames("client.command('reboot-fastboot')").length, 1);
    assert.equal(vendorNames("await getvar(ctx, 'super-partition-name')").length, 1);
    assert.equal(vendorNames("vars.get('is-userspace')").length, 1);
    assert.equal(vendorNames("getvar(ctx, 'is-logical:' + p)").length, 1);
  });

  test('main/flash/** names none of them', () => {
    const hits = filesUnder(join(root, 'main', 'flash')).flatMap((file) =>
      vendorNames(readFileSync(file, 'utf8')).map(
        (h) => `${relative(root, file)}:${h.line}: ${h.what}: ${h.text}`,
      ),
    );
    assert.deepEqual(hits, [], `vendor names in the engine (move them to a profile):\n${hits.join('\n')}`);
  });
});
