/** The udev rules grant access to every USB id Flashline recognises, and to fastboot by interface class. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = new URL('../../../', import.meta.url).pathname;
const rules = readFileSync(join(root, 'resources', 'udev', '51-flashline.rules'), 'utf8');
const lines = rules.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
const ids = (
  JSON.parse(readFileSync(join(root, 'resources', 'usb-ids.json'), 'utf8')) as {
    devices: { vid: string; pid: string; mode: string }[];
  }
).devices;

test('every recognised USB id has a usb_device rule that grants access', () => {
  assert.ok(ids.length > 0);
  for (const { vid, pid } of ids) {
    const rule = lines.find((l) => l.includes(`ATTR{idVendor}=="${vid}", ATTR{idProduct}=="${pid}"`));
    assert.ok(rule, `no rule for ${vid}:${pid}`);
    assert.match(rule, /MODE="0660"/);
    assert.match(rule, /TAG\+="uaccess"/);
  }
});

test('serial-capable ids (edl, modem) also get a tty rule', () => {
  for (const { vid, pid, mode } of ids.filter((d) => d.mode !== 'fastboot')) {
    assert.ok(
      lines.some((l) => l.includes(`ATTRS{idVendor}=="${vid}", ATTRS{idProduct}=="${pid}"`)),
      `no tty rule for ${vid}:${pid} (${mode})`,
    );
  }
});

test('fastboot is matched by interface class ff/42/03 on any vendor', () => {
  assert.ok(lines.some((l) => l.includes('ENV{ID_USB_INTERFACES}=="*:ff4203:*"') && l.includes('uaccess')));
});

test('every GOTO has its LABEL', () => {
  const gotos = new Set([...rules.matchAll(/GOTO="([^"]+)"/g)].map((m) => m[1]));
  const labels = new Set([...rules.matchAll(/LABEL="([^"]+)"/g)].map((m) => m[1]));
  for (const g of gotos) assert.ok(labels.has(g), `missing LABEL ${g}`);
});
