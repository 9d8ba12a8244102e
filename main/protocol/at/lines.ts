/**
 * AT response parsing, pure (no I/O) so it can be tested over arbitrary chunking. ITU-T V.250 §5.7: with
 * verbose results (V1) every information text and final result is framed `<CR><LF>text<CR><LF>`; the command
 * echo (E1, the default) comes back first, ended by `<CR>` alone. So lines are split on CR or LF, empty ones
 * dropped, and the echo recognised by being the command itself.
 */

/** Longer than any identification answer; a port pouring bytes without line ends is not an AT port. */
export const MAX_LINE = 2048;

/** Splits a byte stream into text lines. Bytes may arrive in any pieces. */
export class AtLineSplitter {
  #partial = '';

  /** Feed bytes; returns the lines completed by them (without terminators, never empty). */
  push(bytes: Uint8Array): string[] {
    // latin1 keeps one char per byte, so noise stays visible to the validity check instead of being folded
    // into U+FFFD by a UTF-8 decoder.
    const text =
      this.#partial + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    const parts = text.split(/[\r\n]/);
    this.#partial = parts.pop() ?? '';
    return parts.map((l) => l.trim()).filter((l) => l !== '');
  }

  /** Characters received after the last line end. */
  get pending(): string {
    return this.#partial;
  }

  reset(): void {
    this.#partial = '';
  }
}

/** A final result code: the last line of every answer. */
export type FinalResult =
  | { readonly kind: 'ok' }
  | { readonly kind: 'connect'; readonly text: string }
  | { readonly kind: 'error' }
  | { readonly kind: 'cme'; readonly code: string }
  | { readonly kind: 'cms'; readonly code: string }
  | { readonly kind: 'other'; readonly text: string };

/** V.250 §5.7.2 final results besides OK/CONNECT/ERROR that end a command unsuccessfully. */
const OTHER_FINALS = new Set(['NO CARRIER', 'NO DIALTONE', 'BUSY', 'NO ANSWER', 'COMMAND NOT SUPPORT']);

/** Classify a line as a final result, or null for information text. */
export function finalResult(line: string): FinalResult | null {
  if (line === 'OK') return { kind: 'ok' };
  if (line === 'ERROR') return { kind: 'error' };
  if (line === 'CONNECT' || line.startsWith('CONNECT ')) return { kind: 'connect', text: line };
  const cme = /^\+CME ERROR:\s*(.*)$/.exec(line);
  if (cme) return { kind: 'cme', code: cme[1]!.trim() };
  const cms = /^\+CMS ERROR:\s*(.*)$/.exec(line);
  if (cms) return { kind: 'cms', code: cms[1]!.trim() };
  if (OTHER_FINALS.has(line)) return { kind: 'other', text: line };
  return null;
}

/** Printable ASCII plus tab: anything else in a line means the port is not talking AT (or at another speed). */
export function isTextLine(line: string): boolean {
  return /^[\x20-\x7e\t]*$/.test(line);
}

/**
 * `+NAME` (or `^NAME`, `!NAME`, `$NAME` vendor prefixes) of a command, upper-case, or null for basic
 * commands such as `ATI`. `AT+CGSN=1` → `+CGSN`.
 */
export function commandName(command: string): string | null {
  const m = /^AT([+^!$%#*][A-Z0-9]+)/i.exec(command);
  return m ? m[1]!.toUpperCase() : null;
}

/**
 * Unsolicited result codes (3GPP TS 27.007 registration/ring indications and vendor `^`/`+` reports) arrive
 * interleaved with answers. A `+NAME:` line that does not belong to the command in flight is set aside as
 * unsolicited; `RING` always is.
 */
export function isUnsolicited(line: string, command: string): boolean {
  if (line === 'RING' || line.startsWith('+CRING:')) return true;
  const m = /^([+^][A-Z0-9]+):/.exec(line);
  if (!m) return false;
  const name = commandName(command);
  return name === null || m[1]!.toUpperCase() !== name;
}

export interface AtAnswer {
  /** Information text lines, in order (echo, URCs and the final result removed). */
  readonly lines: readonly string[];
  readonly final: FinalResult;
  /** Unsolicited result codes that arrived during the command. */
  readonly unsolicited: readonly string[];
}

/**
 * Collects the lines of one command's answer. The first line equal to the command is its echo (at most
 * one, so a modem answering its own command text as information is not swallowed twice).
 */
export class AtAnswerCollector {
  readonly #command: string;
  #echoSeen = false;
  readonly #lines: string[] = [];
  readonly #unsolicited: string[] = [];

  constructor(command: string) {
    this.#command = command.trim();
  }

  /** Feed one line; returns the whole answer once its final result arrived. */
  feed(line: string): AtAnswer | null {
    if (!this.#echoSeen && this.#lines.length === 0 && line.toUpperCase() === this.#command.toUpperCase()) {
      this.#echoSeen = true;
      return null;
    }
    const final = finalResult(line);
    if (final) return { lines: [...this.#lines], final, unsolicited: [...this.#unsolicited] };
    if (isUnsolicited(line, this.#command)) this.#unsolicited.push(line);
    else this.#lines.push(line);
    return null;
  }
}
