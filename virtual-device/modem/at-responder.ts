/**
 * The modem side of AT, as a ZTE MiFi answers it (identity from the profile). Pure: bytes in, bytes out,
 * so unit tests and the pty device share it. Answers are framed `\r\nTEXT\r\n` with the echo first (V.250
 * §5.7, E1 default); `ATE0` turns the echo off.
 */

export interface ModemIdentityConfig {
  readonly manufacturer: string;
  readonly model: string;
  readonly revision: string;
  readonly imei: string;
}

export type AtFault = 'silent' | 'garbage';

export interface AtResponderOptions {
  readonly identity: ModemIdentityConfig;
  /** Emit a registration URC before each answer (hosts must set it aside). */
  readonly urc?: boolean;
  readonly fault?: AtFault;
  /** `AT+ZCDRUN=E` accepted: the device is about to leave for download mode (after its OK went out). */
  readonly onDownloadMode: () => void;
}

const enc = (s: string) => new TextEncoder().encode(s);

export class AtResponder {
  #line = '';
  #echo = true;
  #noise = 0x5a;

  constructor(readonly options: AtResponderOptions) {}

  /** Feed bytes from the host; returns what the modem writes back. */
  push(bytes: Uint8Array): Uint8Array {
    let out = '';
    for (const ch of Buffer.from(bytes).toString('latin1')) {
      if (ch !== '\r' && ch !== '\n') {
        if (this.#line.length < 1024) this.#line += ch;
        continue;
      }
      if (ch === '\n' || this.#line.trim() === '') {
        this.#line = '';
        continue;
      }
      const command = this.#line.trim();
      this.#line = '';
      if (this.options.fault === 'silent') continue;
      if (this.options.fault === 'garbage') return this.#garbage();
      if (this.#echo) out += `${command}\r`;
      if (this.options.urc) out += '\r\n+CREG: 1\r\n';
      out += this.#answer(command)
        .map((l) => `\r\n${l}\r\n`)
        .join('');
    }
    return enc(out);
  }

  #garbage(): Uint8Array {
    const out = new Uint8Array(64);
    for (let i = 0; i < out.length; i++) {
      this.#noise = (this.#noise * 75 + 74) % 65537;
      out[i] = this.#noise & 0xff;
    }
    return out;
  }

  /** Information lines then the final result. */
  #answer(command: string): string[] {
    const id = this.options.identity;
    const c = command.toUpperCase();
    switch (c) {
      case 'AT':
        return ['OK'];
      case 'ATE0':
      case 'ATE1':
        this.#echo = c === 'ATE1';
        return ['OK'];
      case 'ATI':
        return [
          `Manufacturer: ${id.manufacturer}`,
          `Model: ${id.model}`,
          `Revision: ${id.revision}`,
          `IMEI: ${id.imei}`,
          'OK',
        ];
      // ZTE firmware answers the 3GPP names; the V.250 ones are refused so the host's fallback is exercised
      // only when a test asks for it through another identity.
      case 'AT+CGMI':
        return [id.manufacturer, 'OK'];
      case 'AT+CGMM':
        return [id.model, 'OK'];
      case 'AT+CGMR':
        return [id.revision, 'OK'];
      case 'AT+CGSN':
        return [id.imei, 'OK'];
      case 'AT+ZCDRUN=E':
        this.options.onDownloadMode();
        return ['Download mode entered', 'OK'];
      default:
        return c.startsWith('AT+C') ? ['+CME ERROR: 4'] : ['ERROR'];
    }
  }
}
