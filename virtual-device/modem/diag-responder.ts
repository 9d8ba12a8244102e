/**
 * The modem side of DIAG: answers the EDL switch with its echo (then the device leaves), anything else with
 * the DIAG "bad command" response (0x13 followed by the request, as Qualcomm firmware does). Pure.
 */
import { DIAG_EDL_SWITCH, DiagFrameDecoder, encodeDiagFrame } from '../../main/protocol/diag/hdlc.js';

const BAD_COMMAND = 0x13;

export class DiagResponder {
  readonly #decoder = new DiagFrameDecoder();

  constructor(readonly onEdl: () => void) {}

  push(bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const frame of this.#decoder.push(bytes)) {
      if (!frame.ok) continue; // a real DIAG port drops frames with a bad CRC silently
      const p = frame.payload;
      if (p.byteLength === DIAG_EDL_SWITCH.byteLength && DIAG_EDL_SWITCH.every((b, i) => p[i] === b)) {
        out.push(encodeDiagFrame(p));
        this.onEdl();
      } else {
        const reply = new Uint8Array(1 + p.byteLength);
        reply[0] = BAD_COMMAND;
        reply.set(p, 1);
        out.push(encodeDiagFrame(reply));
      }
    }
    return out;
  }
}
