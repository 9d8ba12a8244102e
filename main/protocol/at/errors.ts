/**
 * AT client errors. The modem's own words (`deviceMessage`, the `+CME ERROR` number) stay apart from ours so
 * a report can quote them. Transport failures (TimeoutError, DisconnectedError, AbortedError) come from
 * main/transport unchanged, with the command named in the message.
 */
import { FlashlineError } from '../../common/errors.js';

export const AT_ERROR_CODES = {
  refused: 'at_error',
  protocol: 'at_protocol',
} as const;

/** Which final result refused the command (3GPP TS 27.007 §9.2: `+CME ERROR`, TS 27.005: `+CMS ERROR`). */
export type AtRefusal =
  | { readonly kind: 'error' }
  | { readonly kind: 'cme'; readonly code: string }
  | { readonly kind: 'cms'; readonly code: string }
  | { readonly kind: 'other'; readonly text: string };

/** The modem answered ERROR, `+CME ERROR: n`, `+CMS ERROR: n`, NO CARRIER…: it does not accept the command. */
export class AtCommandError extends FlashlineError {
  readonly command: string;
  readonly refusal: AtRefusal;
  /** The final result line, verbatim. */
  readonly deviceMessage: string;
  constructor(command: string, refusal: AtRefusal, deviceMessage: string) {
    super(AT_ERROR_CODES.refused, `the modem refused '${command}': ${JSON.stringify(deviceMessage)}`, {
      command,
      deviceMessage,
      refusal,
    });
    this.name = 'AtCommandError';
    this.command = command;
    this.refusal = refusal;
    this.deviceMessage = deviceMessage;
  }
}

/** The port answered something that is not an AT response (binary noise, a line too long, a wrong echo). */
export class AtProtocolError extends FlashlineError {
  readonly command: string;
  constructor(command: string, problem: string) {
    super(AT_ERROR_CODES.protocol, `the answer to '${command}' is not an AT response: ${problem}`, {
      command,
    });
    this.name = 'AtProtocolError';
    this.command = command;
  }
}
