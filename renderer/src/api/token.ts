/**
 * The station token travels in the printed URL (`?token=…`). The page takes it once, keeps it in
 * sessionStorage (so a reload still works) and removes it from the address bar, so it does not linger
 * in history, screenshots or a copied link. Pure: the caller passes the URL and the stored value.
 */
export const TOKEN_STORAGE_KEY = 'flashline.stationToken';

export interface TokenResult {
  /** The token to use, or null when neither the URL nor the session has one. */
  readonly token: string | null;
  /** The URL to show instead (token removed), or null when the URL had no token. */
  readonly cleanUrl: string | null;
}

export function takeStationToken(href: string, stored: string | null): TokenResult {
  const url = new URL(href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl === null) return { token: stored && stored.length > 0 ? stored : null, cleanUrl: null };
  url.searchParams.delete('token');
  const clean = `${url.pathname}${url.search}${url.hash}`;
  return { token: fromUrl.length > 0 ? fromUrl : stored, cleanUrl: clean };
}

/** The WebSocket URL of the station API for a page at `href`. */
export function stationApiUrl(href: string, token: string): string {
  const url = new URL(href);
  const scheme = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${url.host}/api?token=${encodeURIComponent(token)}`;
}
