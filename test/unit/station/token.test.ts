import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoopbackHost as isLoopback } from '../../../main/station/request-guard.js';
import { newStationToken, presentedToken, tokenMatches } from '../../../main/station/token.js';

test('tokens are random, URL-safe and 256-bit', () => {
  const a = newStationToken();
  const b = newStationToken();
  assert.notEqual(a, b);
  assert.match(a, /^[A-Za-z0-9_-]{43}$/);
});

test('only the exact token matches', () => {
  const t = newStationToken();
  assert.equal(tokenMatches(t, t), true);
  assert.equal(tokenMatches(t, null), false);
  assert.equal(tokenMatches(t, ''), false);
  assert.equal(tokenMatches(t, t.slice(0, -1)), false);
  assert.equal(tokenMatches(t, `${t}x`), false);
  assert.equal(tokenMatches(t, t.toUpperCase() === t ? t.toLowerCase() : t.toUpperCase()), false);
});

test('the token is read from ?token= or a Bearer header', () => {
  assert.equal(presentedToken(new URL('http://h/api?token=abc'), undefined), 'abc');
  assert.equal(presentedToken(new URL('http://h/api'), 'Bearer xyz'), 'xyz');
  assert.equal(presentedToken(new URL('http://h/api'), 'Basic xyz'), null);
  assert.equal(presentedToken(new URL('http://h/api'), undefined), null);
});

test('loopback detection', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) assert.equal(isLoopback(h), true, h);
  for (const h of ['0.0.0.0', '192.168.1.10', '::', 'example.com', '128.0.0.1'])
    assert.equal(isLoopback(h), false, h);
});
