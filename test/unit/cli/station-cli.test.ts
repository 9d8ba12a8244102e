/** `flashline station` argument handling: bad values are one-line errors with exit 2; remote binding needs a flag. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flashline } from './run-cli.js';

test('a bad --port is a one-line error plus usage hint, exit 2', () => {
  const r = flashline('station', '--port', 'seventy');
  assert.equal(r.status, 2);
  const lines = r.stderr.trim().split('\n');
  assert.match(lines[0] ?? '', /'seventy' is not a TCP port/);
  assert.ok(lines.length <= 2, r.stderr);
  assert.doesNotMatch(r.stderr, /at .+\.ts:\d+/);
});

test('a non-loopback address is refused without --allow-remote, before anything is bound', () => {
  const r = flashline('station', '--host', '0.0.0.0', '--port', '0');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Refusing to bind 0\.0\.0\.0: it is not a loopback address\. Add --allow-remote/);
  assert.equal(r.stdout, '');
});

test('station --help names the security options', () => {
  const r = flashline('station', '--help');
  assert.equal(r.status, 0);
  for (const opt of ['--port', '--host', '--allow-remote', '--json']) assert.match(r.stdout, new RegExp(opt));
});
