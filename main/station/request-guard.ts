/**
 * Which requests the station answers at all, before the token is looked at.
 *
 * - Host: a page on `evil.example` can make its own name resolve to 127.0.0.1 (DNS rebinding) and then talk
 *   to the station as "same origin". The browser still sends `Host: evil.example`, so only the names the
 *   station is actually reached by are answered: the loopback names when bound to loopback, the bound
 *   address (and, for a wildcard bind, this machine's interface addresses), and names given with
 *   `--allow-host`. The port must be the station's.
 * - Origin: a browser always sends Origin on a WebSocket upgrade and on a cross-origin POST (and Chromium and
 *   Firefox on same-origin POSTs too), so a foreign or `null` Origin is refused on upgrades and on every
 *   state-changing request. A request without Origin comes from a non-browser client (curl, the CLI, tests),
 *   which no web page can make a browser send, so it is let through; it still needs the token.
 */
import { networkInterfaces } from 'node:os';

export type Scheme = 'http' | 'https';

export interface GuardOptions {
  /** The address the server is bound to (as given to listen, or as server.address() reports it). */
  readonly boundAddress: string;
  readonly port: number;
  readonly scheme: Scheme;
  /** Extra host names accepted in Host/Origin (`--allow-host`). */
  readonly allowHosts?: readonly string[];
}

export interface Refusal {
  readonly status: number;
  /** One line, saying what to do. */
  readonly message: string;
}

export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'] as const;

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** A host name or address as the WHATWG URL parser normalises it (lower case, IPv6 in brackets). */
function normaliseHost(name: string): string | undefined {
  const bare = name.trim().replace(/^\[|\]$/g, '');
  try {
    return new URL(`http://${bare.includes(':') ? `[${bare}]` : bare}`).hostname;
  } catch {
    return undefined;
  }
}

export function isLoopbackHost(host: string): boolean {
  const h = normaliseHost(host);
  return h === 'localhost' || h === '[::1]' || (h !== undefined && /^127\./.test(h));
}

function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .map((i) => i?.address)
    .filter((a): a is string => typeof a === 'string');
}

/** The host names (without port) this station answers to. */
export function acceptedHostNames(options: GuardOptions): string[] {
  const names = new Set<string>();
  const add = (n: string) => {
    const h = normaliseHost(n);
    if (h) names.add(h);
  };
  if (WILDCARDS.has(options.boundAddress)) {
    for (const n of LOOPBACK_NAMES) add(n);
    for (const a of interfaceAddresses()) add(a);
  } else {
    add(options.boundAddress);
    if (isLoopbackHost(options.boundAddress)) for (const n of LOOPBACK_NAMES) add(n);
  }
  for (const n of options.allowHosts ?? []) add(n);
  return [...names];
}

/** The host for the printed URL: the bound address, or for a wildcard bind this machine's LAN address. */
function shownHost(bound: string): string {
  if (!WILDCARDS.has(bound)) return normaliseHost(bound) ?? bound;
  const lan = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && !i.internal && i.family === 'IPv4');
  return lan?.address ?? '127.0.0.1';
}

const DEFAULT_PORT: Record<Scheme, string> = { http: '80', https: '443' };

export class RequestGuard {
  private readonly names: ReadonlySet<string>;
  readonly origin: string;

  constructor(private readonly options: GuardOptions) {
    this.names = new Set(acceptedHostNames(options));
    this.origin = `${options.scheme}://${shownHost(options.boundAddress)}:${options.port}`;
  }

  /** Whether `host` (a Host header or an origin's host: name and optional port) names this station. */
  private namesThisStation(host: string): boolean {
    let url: URL;
    try {
      url = new URL(`${this.options.scheme}://${host}`);
    } catch {
      return false;
    }
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return false;
    const port = url.port || DEFAULT_PORT[this.options.scheme];
    return port === String(this.options.port) && this.names.has(url.hostname);
  }

  private hostList(): string {
    return [...this.names].map((n) => `${n}:${this.options.port}`).join(', ');
  }

  /** Refusal for a Host header that does not name this station (421), or undefined. */
  checkHost(host: string | undefined): Refusal | undefined {
    if (host && this.namesThisStation(host)) return undefined;
    return {
      status: 421,
      message: `This Flashline station answers only to ${this.hostList()}, not to '${(host ?? '').slice(0, 100)}'. Open the URL it printed, or restart it with --allow-host NAME to accept another name.`,
    };
  }

  /** Refusal for an Origin that is not this station's own (403), or undefined (also when absent). */
  checkOrigin(origin: string | undefined): Refusal | undefined {
    if (origin === undefined) return undefined;
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (url && url.protocol === `${this.options.scheme}:` && this.namesThisStation(url.host)) {
      return undefined;
    }
    return {
      status: 403,
      message: `Requests from the page '${origin.slice(0, 100)}' are refused: only pages served by this station (${this.origin}) may use it. Open the URL the station printed.`,
    };
  }
}

/** Methods that change nothing, for which the Origin check is not needed (pages and assets). */
export function isSafeMethod(method: string | undefined): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}
