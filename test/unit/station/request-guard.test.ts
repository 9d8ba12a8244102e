/** Host and Origin rules of the station (request-guard.ts) and the --max-upload size parser. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseByteSize } from '../../../main/cli/options.js';
import { acceptedHostNames, RequestGuard } from '../../../main/station/request-guard.js';

describe('station Host check', () => {
  const loopback = new RequestGuard({ boundAddress: '127.0.0.1', port: 7480, scheme: 'http' });

  it('a loopback station answers to the loopback names on its port', () => {
    for (const host of ['127.0.0.1:7480', 'localhost:7480', 'LOCALHOST:7480', '[::1]:7480']) {
      assert.equal(loopback.checkHost(host), undefined, host);
    }
  });

  it('refuses other names, other ports, a missing Host and malformed values with 421', () => {
    for (const host of [
      'evil.example:7480',
      'evil.example',
      '127.0.0.1',
      '127.0.0.1:80',
      'localhost:7481',
      '192.168.1.10:7480',
      'localhost.evil.example:7480',
      'user@localhost:7480',
      'localhost:7480/x',
      '',
      undefined,
    ]) {
      const refusal = loopback.checkHost(host);
      assert.equal(refusal?.status, 421, String(host));
      assert.match(refusal?.message ?? '', /answers only to 127\.0\.0\.1:7480.*--allow-host NAME/);
    }
  });

  it('--allow-host adds names; a non-loopback bind answers to its own address, not to localhost', () => {
    const named = new RequestGuard({
      boundAddress: '127.0.0.1',
      port: 7480,
      scheme: 'http',
      allowHosts: ['Station-7.line.local'],
    });
    assert.equal(named.checkHost('station-7.line.local:7480'), undefined);
    const lan = new RequestGuard({ boundAddress: '10.1.2.3', port: 443, scheme: 'https' });
    assert.equal(lan.checkHost('10.1.2.3'), undefined, 'default port may be left out');
    assert.equal(lan.checkHost('10.1.2.3:443'), undefined);
    assert.equal(lan.checkHost('localhost:443')?.status, 421);
    assert.equal(lan.origin, 'https://10.1.2.3:443');
  });

  it('a wildcard bind answers to loopback and this machine’s addresses', () => {
    const names = acceptedHostNames({ boundAddress: '0.0.0.0', port: 1, scheme: 'https' });
    assert.ok(names.includes('localhost') && names.includes('127.0.0.1'), names.join());
    assert.ok(!names.includes('0.0.0.0'), 'nobody browses to 0.0.0.0');
  });
});

describe('station Origin check', () => {
  const guard = new RequestGuard({ boundAddress: '127.0.0.1', port: 7480, scheme: 'http' });

  it('accepts the station’s own origin under any of its names, and no Origin (non-browser clients)', () => {
    assert.equal(guard.checkOrigin('http://127.0.0.1:7480'), undefined);
    assert.equal(guard.checkOrigin('http://localhost:7480'), undefined);
    assert.equal(guard.checkOrigin(undefined), undefined);
  });

  it('refuses foreign, null, wrong-scheme and wrong-port origins with 403', () => {
    for (const origin of [
      'http://evil.example',
      'http://evil.example:7480',
      'null',
      'https://127.0.0.1:7480',
      'http://127.0.0.1:7481',
      'file://',
      '',
    ]) {
      const refusal = guard.checkOrigin(origin);
      assert.equal(refusal?.status, 403, origin);
      assert.match(
        refusal?.message ?? '',
        /only pages served by this station \(http:\/\/127\.0\.0\.1:7480\)/,
      );
    }
  });
});

describe('--max-upload sizes', () => {
  it('reads binary and decimal units', () => {
    assert.equal(parseByteSize('4GiB'), 4 * 1024 ** 3);
    assert.equal(parseByteSize('4G'), 4 * 1024 ** 3);
    assert.equal(parseByteSize('4GB'), 4e9);
    assert.equal(parseByteSize('512 MiB'), 512 * 1024 ** 2);
    assert.equal(parseByteSize('1.5KiB'), 1536);
    assert.equal(parseByteSize('1000'), 1000);
  });

  it('refuses what is not a size, saying what is expected', () => {
    for (const bad of ['', 'lots', '-1G', '0', '4XB', '1e9', '4 G iB', '1constructor', '2toString']) {
      assert.throws(() => parseByteSize(bad), /is not a size \(for example 4GiB/, bad);
    }
  });
});
