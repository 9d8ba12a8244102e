/**
 * The one DIAG request Flashline sends: the EDL switch. A device that accepts it echoes the request and then
 * drops off the bus to come back as 05c6:9008; bkerler/edl sends it and waits for the port to go away. So
 * success is the echo or the port vanishing; a DIAG error response (command code 0x13 "bad command", 0x14
 * "bad parameters", 0x15 "bad length", 0x18 "bad mode") is a refusal.
 */
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

/**
 * Send the EDL switch and wait (bounded) for its echo or for the port to disappear.
 * @throws DiagRefusedError, DiagProtocolError, TimeoutError, AbortedError
 */
export async function diagEnterEdl(link: StreamLink, opts: IoOptions = {}): Promise<EdlSwitchOutcome> {
  const timeoutMs = opts.timeoutMs ?? 3000;
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
