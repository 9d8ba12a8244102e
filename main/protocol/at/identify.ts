/**
 * Modem identification over AT. 3GPP TS 27.007 §5 defines +CGMI (manufacturer), +CGMM (model), +CGMR
 * (revision) and +CGSN (serial number: the IMEI on a 3GPP modem); ITU-T V.250 §6.1 has the same four as
 * +GMI/+GMM/+GMR/+GSN, which older or non-3GPP firmware answers instead. ATI is free-form vendor text.
 * Some firmware prefixes answers with the command name (`+CGMI: "ZTE"`), some quote them: both are removed.
 */
import type { IoOptions } from '../../transport/types.js';
import type { AtClient } from './client.js';
import { AtCommandError } from './errors.js';

export interface ModemIdentity {
  readonly manufacturer?: string;
  readonly model?: string;
  readonly revision?: string;
  /** Only a 15-digit number whose Luhn check digit holds (3GPP TS 23.003 §6.2.1 / Annex B). */
  readonly imei?: string;
  /** What +CGSN/+GSN said when it is not a valid IMEI (a serial number on non-3GPP modems). */
  readonly serial?: string;
  /** ATI's information lines, verbatim. */
  readonly info: readonly string[];
}

/** Luhn over the first 14 digits gives the 15th (3GPP TS 23.003 Annex B). */
export function isValidImei(value: string): boolean {
  if (!/^\d{15}$/.test(value)) return false;
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    let d = value.charCodeAt(i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** `+CGMI: "ZTE CORPORATION"` → `ZTE CORPORATION`; multi-line answers are joined with a space. */
export function answerValue(lines: readonly string[]): string | undefined {
  const text = lines
    .map((l) =>
      l
        .replace(/^[+^][A-Z]+:\s*/i, '')
        .replace(/^"(.*)"$/, '$1')
        .trim(),
    )
    .filter((l) => l !== '')
    .join(' ');
  return text === '' ? undefined : text;
}

/** The 3GPP command first; the V.250 one when the modem refuses it. Undefined when both are refused. */
async function ask(
  client: AtClient,
  commands: readonly [string, string],
  opts: IoOptions,
): Promise<string | undefined> {
  for (const command of commands) {
    try {
      return answerValue((await client.command(command, opts)).lines);
    } catch (err) {
      if (!(err instanceof AtCommandError)) throw err;
    }
  }
  return undefined;
}

/**
 * Probe with plain `AT` (retried as fwupd does), then ask each identification command once. A refused
 * command leaves its field out; silence or noise fails the whole identification.
 * @throws TimeoutError, AtProtocolError, DisconnectedError, AbortedError
 */
export async function identifyModem(client: AtClient, opts: IoOptions = {}): Promise<ModemIdentity> {
  await client.probe(opts);
  let info: readonly string[] = [];
  try {
    info = (await client.command('ATI', opts)).lines;
  } catch (err) {
    if (!(err instanceof AtCommandError)) throw err;
  }
  const manufacturer = await ask(client, ['AT+CGMI', 'AT+GMI'], opts);
  const model = await ask(client, ['AT+CGMM', 'AT+GMM'], opts);
  const revision = await ask(client, ['AT+CGMR', 'AT+GMR'], opts);
  const sn = await ask(client, ['AT+CGSN', 'AT+GSN'], opts);
  const digits = sn?.replace(/\s/g, '');
  return {
    ...(manufacturer ? { manufacturer } : {}),
    ...(model ? { model } : {}),
    ...(revision ? { revision } : {}),
    ...(digits && isValidImei(digits) ? { imei: digits } : sn ? { serial: sn } : {}),
    info,
  };
}
