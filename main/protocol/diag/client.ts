/**
 * The one DIAG request Flashline sends: the EDL switch. A device that accepts it echoes the request and then
 * drops off the bus to come back as 05c6:9008; fwupd's modem-manager plugin compares the reply with the
 * request and repeats until the QCDM port is gone. So success is the echo or the port vanishing; a DIAG error response (command code 0x13 "bad command", 0x14
 * "bad parameters", 0x15 "bad length", 0x18 "bad mode") is a refusal.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { FlashlineError } from '../../common/errors.js';
import { DisconnectedError, TimeoutError } from '../../transport/errors.js';
import type { IoOptions, StreamLink } from '../../transport/types.js';
import { DIAG_EDL_SWITCH, DiagFrameDecoder, encodeDiagFrame } from './hdlc.js';

export const DIAG_ERROR_CODES = { refused: 'diag_refused', protocol: 'diag_protocol' } as const;

/** DIAG's own error response codes (first payload byte). */
const DIAG_REFUSALS: Readonly<Record<number, string>> = {
  19: 'bad command',
  20: 'bad parameters',
  21: 'bad length',
  24: 'bad mode (the DIAG port is locked)',
};

export class DiagRefusedError extends FlashlineError {
  constructor(what: string, reason: string) {
    super(DIAG_ERROR_CODES.refused, `the DIAG port refused ${what}: ${reason}`, { reason });
    this.name = 'DiagRefusedError';
  }
}

export class DiagProtocolError extends FlashlineError {
  constructor(problem: string) {
    super(DIAG_ERROR_CODES.protocol, `the DIAG port's answer is not a DIAG frame: ${problem}`);
    this.name = 'DiagProtocolError';
  }
}

export type EdlSwitchOutcome = 'echoed' | 'port-gone';

export interface EdlSwitchOptions extends IoOptions {
  /** fwupd sends the switch up to 30 times, 1 s apart, until the port goes away. */
  readonly tries?: number;
  readonly intervalMs?: number;
}

/**
 * Send the EDL switch until the port goes away (fwupd's modem-manager plugin: up to 30 tries, 1 s apart;
 * a device that echoed but stays is asked again). Resolves `port-gone`, or `echoed` when the device
 * accepted but was still there after the last try.
 * @throws DiagRefusedError, DiagProtocolError, TimeoutError (never echoed), AbortedError
 */
export async function diagEnterEdl(link: StreamLink, opts: EdlSwitchOptions = {}): Promise<EdlSwitchOutcome> {
  const tries = opts.tries ?? 30;
  const intervalMs = opts.intervalMs ?? 1000;
  let echoed = false;
  for (let attempt = 0; attempt < tries; attempt++) {
    let outcome: EdlSwitchOutcome;
    try {
      outcome = await sendEdlSwitch(link, opts);
    } catch (err) {
      // No answer to this try: fwupd retries on any failure. A device that accepted already may not answer
      // a repeat while it leaves; one that never answered gets the last timeout after the last try.
      if (!(err instanceof TimeoutError) || attempt === tries - 1) {
        if (echoed && err instanceof TimeoutError) return 'echoed';
        throw err;
      }
      continue;
    }
    if (outcome === 'port-gone') return outcome;
    echoed = true;
    const gone = await Promise.race([
      link.disconnected.then(() => true),
      sleep(intervalMs, false, opts.signal ? { signal: opts.signal } : {}),
    ]);
    if (gone) return 'port-gone';
  }
  return echoed ? 'echoed' : 'port-gone';
}

/** One request: its echo (success), a refusal, or the port vanishing. */
async function sendEdlSwitch(link: StreamLink, opts: IoOptions): Promise<EdlSwitchOutcome> {
  const timeoutMs = opts.timeoutMs ?? 1500;
  const io = { ...(opts.signal ? { signal: opts.signal } : {}) };
  const deadline = Date.now() + timeoutMs;
  const decoder = new DiagFrameDecoder();
  try {
    await link.write(encodeDiagFrame(DIAG_EDL_SWITCH), { ...io, timeoutMs });
    for (;;) {
      const bytes = await link.read({ ...io, timeoutMs: Math.max(1, deadline - Date.now()) });
      for (const frame of decoder.push(bytes)) {
        if (!frame.ok) throw new DiagProtocolError(frame.problem);
        const p = frame.payload;
        if (p.byteLength >= 4 && DIAG_EDL_SWITCH.every((b, i) => p[i] === b)) return 'echoed';
        const refusal = DIAG_REFUSALS[p[0]!];
        if (refusal) throw new DiagRefusedError('the EDL switch', refusal);
        // Anything else is an unrelated log/event packet: keep waiting.
      }
    }
  } catch (err) {
    if (err instanceof DisconnectedError) return 'port-gone';
    if (err instanceof TimeoutError)
      throw new TimeoutError(
        `waiting for the DIAG port ${link.description} to answer the EDL switch`,
        timeoutMs,
      );
    throw err;
  }
}
