import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideLaunch, fallbackLine } from '../../../electron/launch-decision.js';
import {
  APP_ENTRY_URL,
  DESKTOP_CSP,
  decidePermission,
  isNavigationAllowed,
  isTrustedSender,
  resolveAppAsset,
} from '../../../electron/security.js';

describe('IPC sender check', () => {
  const own = { frameUrl: APP_ENTRY_URL, isMainFrame: true, isOwnWindow: true };

  test('accepts the top frame of the own window on an app page', () => {
    assert.equal(isTrustedSender(own), true);
    assert.equal(isTrustedSender({ ...own, frameUrl: 'app://flashline/other.html#x' }), true);
  });

  test('refuses sub-frames, other windows, gone frames and foreign origins', () => {
    assert.equal(isTrustedSender({ ...own, isMainFrame: false }), false);
    assert.equal(isTrustedSender({ ...own, isOwnWindow: false }), false);
    assert.equal(isTrustedSender({ ...own, frameUrl: undefined }), false);
    for (const url of [
      'https://flashline/index.html',
      'file:///work/main/dist/renderer/index.html',
      'app://flashline.evil/index.html',
      'app://evil/index.html',
      'app://user@flashline/index.html',
      'app://flashline:8080/index.html',
      'about:blank',
      'not a url',
    ]) {
      assert.equal(isTrustedSender({ ...own, frameUrl: url }), false, url);
    }
  });
});

describe('navigation, permissions, CSP', () => {
  test('navigation stays inside the app', () => {
    assert.equal(isNavigationAllowed('app://flashline/index.html'), true);
    assert.equal(isNavigationAllowed('https://example.com/'), false);
    assert.equal(isNavigationAllowed('javascript:alert(1)'), false);
  });

  test('every permission is denied', () => {
    for (const p of [
      'media',
      'geolocation',
      'notifications',
      'usb',
      'serial',
      'hid',
      'clipboard-read',
      'x',
    ]) {
      assert.equal(decidePermission(p, APP_ENTRY_URL), false, p);
    }
  });

  test('the CSP allows only own scripts and styles and no network', () => {
    const directives = new Map(
      DESKTOP_CSP.split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name, values.join(' ')] as const;
      }),
    );
    assert.equal(directives.get('default-src'), "'none'");
    assert.equal(directives.get('script-src'), "'self'");
    assert.equal(directives.get('style-src'), "'self'");
    assert.equal(directives.get('connect-src'), "'none'");
    assert.equal(directives.get('object-src'), "'none'");
    assert.doesNotMatch(DESKTOP_CSP, /unsafe-inline|unsafe-eval|\*/);
  });

  test('asset paths cannot escape the renderer folder', () => {
    assert.equal(resolveAppAsset('app://flashline/', '/r'), '/r/index.html');
    assert.equal(resolveAppAsset('app://flashline/assets/a.js?x=1', '/r/'), '/r/assets/a.js');
    // The URL parser already folds dot segments, so this stays inside the folder.
    assert.equal(resolveAppAsset('app://flashline/%2e%2e/secret', '/r'), '/r/secret');
    assert.equal(resolveAppAsset('app://flashline/a/..%2f..%2fsecret', '/r'), null);
    assert.equal(resolveAppAsset('app://flashline/a%5c..%5csecret', '/r'), null);
    assert.equal(resolveAppAsset('app://flashline/a%00.js', '/r'), null);
    assert.equal(resolveAppAsset('app://flashline/%E0%A4%A', '/r'), null);
    assert.equal(resolveAppAsset('app://other/index.html', '/r'), null);
  });
});

describe('npm start: desktop or station fallback', () => {
  const base = {
    platform: 'linux' as const,
    env: { DISPLAY: ':0' },
    electronPath: '/x/electron',
    electronBinaryExists: true,
  };

  test('opens the window when the binary and a display exist', () => {
    assert.deepEqual(decideLaunch(base), { kind: 'electron', electronPath: '/x/electron' });
    assert.equal(decideLaunch({ ...base, env: { WAYLAND_DISPLAY: 'wayland-0' } }).kind, 'electron');
    assert.equal(decideLaunch({ ...base, platform: 'win32', env: {} }).kind, 'electron');
    assert.equal(decideLaunch({ ...base, platform: 'darwin', env: {} }).kind, 'electron');
  });

  test('falls back, saying why, without a binary or a display', () => {
    const noBinary = decideLaunch({ ...base, electronPath: undefined, electronBinaryExists: false });
    assert.equal(noBinary.kind, 'station');
    assert.match(noBinary.kind === 'station' ? noBinary.reason : '', /Electron binary is not installed/);
    assert.equal(decideLaunch({ ...base, electronBinaryExists: false }).kind, 'station');
    const noDisplay = decideLaunch({ ...base, env: {} });
    assert.match(noDisplay.kind === 'station' ? noDisplay.reason : '', /no display/);
    assert.equal(decideLaunch({ ...base, env: { DISPLAY: '' } }).kind, 'station');
    assert.equal(
      decideLaunch({ ...base, env: { DISPLAY: ':0', FLASHLINE_FORCE_STATION: '1' } }).kind,
      'station',
    );
  });

  test('the fallback message is one line', () => {
    const line = fallbackLine('there is no display');
    assert.doesNotMatch(line, /\n/);
    assert.match(
      line,
      /^Flashline desktop window cannot start here: there is no display\. Starting station mode/,
    );
  });
});
