/**
 * QCDM/DIAG framing as Qualcomm's DIAG port carries it (ModemManager's libqcdm, bkerler/edl's diag tool):
 * async-HDLC-like — the payload, then its CRC-16/X.25 little-endian, with 0x7E and 0x7D escaped as 0x7D
 * followed by the byte XOR 0x20, and one 0x7E flag closing the frame. Pure functions: the host client and
 * the virtual device both use them.
 */

export const HDLC_FLAG = 0x7e;
export const HDLC_ESCAPE = 0x7d;
export const HDLC_ESCAPE_XOR = 0x20;

/** DIAG subsystem command 0x4B, subsystem 0x65, command 0x0001: reboot into Emergency Download (EDL). */
export const DIAG_EDL_SWITCH = Uint8Array.of(0x4b, 0x65, 0x01, 0x00);

/**
 * CRC-16/X.25 (CRC catalogue: poly 0x1021 reflected = 0x8408, init 0xFFFF, refin/refout, xorout 0xFFFF;
 * check value 0x906E over "123456789").
 */
export function crc16X25(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0x8408 : crc >>> 1;
  }
  return crc ^ 0xffff;
}

/** Frame one payload: escape(payload ‖ crc LE) ‖ 0x7E. */
export function encodeDiagFrame(payload: Uint8Array): Uint8Array {
  const crc = crc16X25(payload);
  const raw = new Uint8Array(payload.byteLength + 2);
  raw.set(payload);
  raw[payload.byteLength] = crc & 0xff;
  raw[payload.byteLength + 1] = crc >>> 8;
  const out: number[] = [];
  for (const b of raw) {
    if (b === HDLC_FLAG || b === HDLC_ESCAPE) out.push(HDLC_ESCAPE, b ^ HDLC_ESCAPE_XOR);
    else out.push(b);
  }
  out.push(HDLC_FLAG);
  return Uint8Array.from(out);
}

export type DiagFrameResult =
  | { readonly ok: true; readonly payload: Uint8Array }
  | { readonly ok: false; readonly problem: string };

/** Largest frame accepted; DIAG request/response packets are far smaller. */
export const MAX_DIAG_FRAME = 16 * 1024;

/**
 * Splits a DIAG byte stream into frames, unescaping and checking each CRC. Empty frames (a leading flag,
 * which some hosts send before each frame) are skipped. Bytes may arrive in any pieces.
 */
export class DiagFrameDecoder {
  #buf: number[] = [];
  #escaped = false;

  push(bytes: Uint8Array): DiagFrameResult[] {
    const out: DiagFrameResult[] = [];
    for (const b of bytes) {
      if (b === HDLC_FLAG) {
        if (this.#buf.length > 0 || this.#escaped) out.push(this.#finish());
        continue;
      }
      if (this.#buf.length > MAX_DIAG_FRAME) continue; // reported at the flag
      if (this.#escaped) {
        this.#buf.push(b ^ HDLC_ESCAPE_XOR);
        this.#escaped = false;
      } else if (b === HDLC_ESCAPE) this.#escaped = true;
      else this.#buf.push(b);
    }
    return out;
  }

  #finish(): DiagFrameResult {
    const raw = Uint8Array.from(this.#buf);
    const escaped = this.#escaped;
    this.#buf = [];
    this.#escaped = false;
    if (escaped) return { ok: false, problem: 'an escape byte right before the closing flag' };
    if (raw.byteLength > MAX_DIAG_FRAME)
      return { ok: false, problem: `a frame longer than ${MAX_DIAG_FRAME} bytes` };
    if (raw.byteLength < 3)
      return { ok: false, problem: `a ${raw.byteLength}-byte frame (too short for a CRC)` };
    const payload = raw.subarray(0, raw.byteLength - 2);
    const got = raw[raw.byteLength - 2]! | (raw[raw.byteLength - 1]! << 8);
    const want = crc16X25(payload);
    if (got !== want)
      return {
        ok: false,
        problem: `CRC mismatch (frame says 0x${got.toString(16)}, payload gives 0x${want.toString(16)})`,
      };
    return { ok: true, payload };
  }
}
