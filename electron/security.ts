/**
 * The desktop shell's security decisions as pure functions, so each is unit-tested without Electron.
 * docs/electron-security.md explains the choices; electron/main.ts only wires them to Electron's hooks.
 */

/** The renderer is served from a privileged custom scheme, never file:// (which would share an origin
 * with every local file) and never http:// (which a local process could impersonate). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'flashline';
export const APP_ENTRY_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** Strict CSP for the desktop renderer: own scripts and styles only, no inline code, no network at all
 * (the API goes over IPC), no plugins, frames, forms or base-URL games. */
export const DESKTOP_CSP: string = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

/** True when `url` is a page of the app itself (app://flashline/…). Parsed, never prefix-matched, so
 * `app://flashline.evil/` or `app://flashline@evil/` do not pass. */
export function isAppUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.protocol === `${APP_SCHEME}:` &&
    parsed.hostname === APP_HOST &&
    parsed.port === '' &&
    parsed.username === '' &&
    parsed.password === ''
  );
}

/** What main needs to know about the frame an IPC message came from (from `event.senderFrame`). */
export interface IpcSenderInfo {
  /** `event.senderFrame?.url`; undefined when the frame is gone. */
  readonly frameUrl: string | undefined;
  /** Whether the sending frame is its window's top frame (`senderFrame === sender.mainFrame`). */
  readonly isMainFrame: boolean;
  /** Whether the sending webContents belongs to the app's own window. */
  readonly isOwnWindow: boolean;
}

/** IPC is accepted only from the top frame of the app's own window showing an app:// page. */
export function isTrustedSender(sender: IpcSenderInfo): boolean {
  return (
    sender.isOwnWindow && sender.isMainFrame && sender.frameUrl !== undefined && isAppUrl(sender.frameUrl)
  );
}

/** Permission requests (camera, geolocation, notifications, USB, serial, …): deny by default. The app
 * needs none — devices are reached from the main process, never from the web page. */
export function decidePermission(_permission: string, _requestingUrl: string): boolean {
  return false;
}

/** Navigation inside the window: only between the app's own pages. */
export function isNavigationAllowed(url: string): boolean {
  return isAppUrl(url);
}

/** Map an app:// request path to a file under the renderer folder; null for anything that would
 * escape it (`..`, encoded separators, absolute paths). */
export function resolveAppAsset(url: string, rootDir: string): string | null {
  if (!isAppUrl(url)) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(url).pathname);
  } catch {
    return null;
  }
  if (pathname === '/' || pathname === '') pathname = '/index.html';
  if (pathname.includes('\0') || pathname.includes('\\')) return null;
  const parts = pathname.split('/').filter((p) => p.length > 0);
  if (parts.some((p) => p === '..' || p === '.')) return null;
  const root = rootDir.endsWith('/') ? rootDir.slice(0, -1) : rootDir;
  return `${root}/${parts.join('/')}`;
}
