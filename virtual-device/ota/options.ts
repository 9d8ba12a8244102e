/**
 * What the OTA agent is told: where the repository is, what root of trust and publisher keys it starts with,
 * how often to poll and where its attempt reports go. The same object comes from the CLI flags
 * (`flashline virtual-device --ota URL --ota-root ROOT.json --trust DIR …`) and from tests and the demo
 * (`startVirtualDevice({ ota: … })`); it is checked once here, at the boundary.
 */
import { z } from 'zod';
import { FlashlineError } from '../../main/common/errors.js';
import { OTA_SITE_PATTERN } from '../../main/protocol/ota/report.js';

export interface OtaAgentOptions {
  /** The repository's base URL (http or https), e.g. what `flashline repo serve` prints. */
  readonly url: string;
  /** The repository's root.json (`repo init` writes it): needed on the first poll, then remembered. */
  readonly root: string;
  /** Trust directories: publisher keys the device accepts packages from (like a station's trust store). */
  readonly trust: readonly string[];
  /** Seconds between polls (default 60). The first poll runs right after the device is up. */
  readonly intervalSeconds?: number;
  /** `mqtt://HOST:PORT`: where attempt reports go. Without it reports stay queued on the device. */
  readonly report?: string;
  /** The site level of the report topic (default `default`). */
  readonly site?: string;
  /** Station private keys (x25519) for encrypted packages addressed to this device. */
  readonly decryptionKeys?: readonly string[];
  /** Tests: no timer; polls run only through `agent.pollNow()`. */
  readonly manual?: boolean;
}

export const DEFAULT_OTA_INTERVAL_SECONDS = 60;
export const DEFAULT_OTA_SITE = 'default';

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
const mqttUrl = z.url({ protocol: /^mqtts?$/, error: 'must be an mqtt://HOST:PORT URL' });

const schema = z.strictObject({
  url: httpUrl,
  root: z.string().min(1, 'give the repository root.json (--ota-root)'),
  trust: z.array(z.string().min(1)).min(1, 'give at least one trust directory (--trust DIR)'),
  intervalSeconds: z.number().int().min(1).max(86_400).optional(),
  report: mqttUrl.optional(),
  site: z.string().regex(OTA_SITE_PATTERN, 'letters, digits, . _ - (at most 100)').optional(),
  decryptionKeys: z.array(z.string().min(1)).optional(),
  manual: z.boolean().optional(),
});

/** Check the options; a refusal names the option and what it needs. */
export function checkOtaOptions(options: OtaAgentOptions): OtaAgentOptions {
  const r = schema.safeParse(options);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue?.path.join('.') || 'ota';
  throw new FlashlineError(
    'bad_input',
    `OTA option ${where}: ${issue?.message ?? 'invalid'}. See docs/ota.md for the agent's options.`,
  );
}
