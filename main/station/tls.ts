/**
 * The station's TLS certificate for `--allow-remote`: the technician's own (`--tls-cert/--tls-key`), or a
 * self-signed one made once and kept under `<FLASHLINE_HOME>/station-tls/`, so its fingerprint stays the same
 * across restarts and can be written on the station and compared in the browser's certificate viewer.
 * Generated with @peculiar/x509 (over Node's WebCrypto) rather than by hand: X.509/ASN.1 is easy to get
 * subtly wrong. ECDSA P-256 keys: fast to make, accepted by every current browser.
 */
import { createPrivateKey, KeyObject, webcrypto, X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { writeFileAtomic } from '../common/atomic-write.js';
import { FlashlineError } from '../common/errors.js';
import { flashlineHome } from '../common/paths.js';

export interface StationTls {
  readonly cert: string;
  readonly key: string;
  /** SHA-256 fingerprint of the certificate, as browsers show it (AB:CD:…). */
  readonly fingerprint: string;
  /** Where the certificate came from, for the log line. */
  readonly source: string;
}

const VALID_DAYS = 5 * 365;
/** Renew a generated certificate this long before it expires, so a running line never meets an expired one. */
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export const tlsDir = (home = flashlineHome()): string => join(home, 'station-tls');

function fingerprintOf(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

/** Load `--tls-cert/--tls-key`; refuses unreadable files or a key that does not belong to the certificate. */
export async function loadTls(certFile: string, keyFile: string): Promise<StationTls> {
  let cert: string;
  let key: string;
  try {
    [cert, key] = await Promise.all([fs.readFile(certFile, 'utf8'), fs.readFile(keyFile, 'utf8')]);
  } catch (err) {
    throw new FlashlineError(
      'bad_input',
      `Cannot read the TLS certificate or key (${(err as NodeJS.ErrnoException).code ?? String(err)}): check --tls-cert ${certFile} and --tls-key ${keyFile}.`,
    );
  }
  let parsed: X509Certificate;
  try {
    parsed = new X509Certificate(cert);
    if (!parsed.checkPrivateKey(createPrivateKey(key))) throw new Error('mismatch');
  } catch (err) {
    throw new FlashlineError(
      'bad_input',
      (err as Error).message === 'mismatch'
        ? `The key ${keyFile} does not belong to the certificate ${certFile}.`
        : `${certFile} and ${keyFile} are not a PEM certificate and its private key.`,
    );
  }
  return { cert, key, fingerprint: parsed.fingerprint256, source: certFile };
}

async function generate(names: readonly string[]): Promise<{ cert: string; key: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const now = Date.now();
  const alt = names.map((n) => {
    const bare = n.replace(/^\[|\]$/g, '');
    return isIP(bare) ? { type: 'ip' as const, value: bare } : { type: 'dns' as const, value: bare };
  });
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    name: 'CN=Flashline station',
    notBefore: new Date(now - 3600 * 1000),
    notAfter: new Date(now + VALID_DAYS * 24 * 3600 * 1000),
    signingAlgorithm: ALG,
    keys: keys as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    extensions: [
      new x509.SubjectAlternativeNameExtension(alt),
      new x509.BasicConstraintsExtension(false),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    ],
  });
  const key = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { cert: cert.toString('pem'), key };
}

/**
 * The kept self-signed certificate, made on first use (or when it is missing, unreadable or about to
 * expire) for `names` (host names and addresses the station answers to). Kept otherwise even if the names
 * change, so the fingerprint the technicians know stays valid; delete the folder to make a new one.
 */
export async function selfSignedTls(names: readonly string[], dir = tlsDir()): Promise<StationTls> {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  try {
    const kept = await loadTls(certFile, keyFile);
    if (Date.parse(new X509Certificate(kept.cert).validTo) - Date.now() > RENEW_BEFORE_MS) return kept;
  } catch {
    // Missing or unreadable: make a new one below.
  }
  const made = await generate(names);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(keyFile, Buffer.from(made.key), { mode: 0o600 });
  await writeFileAtomic(certFile, Buffer.from(made.cert), { mode: 0o644 });
  return { ...made, fingerprint: fingerprintOf(made.cert), source: certFile };
}
