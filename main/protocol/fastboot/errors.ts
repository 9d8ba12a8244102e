/**
 * fastboot client errors. The device's own words (`deviceMessage`) are kept apart from ours so the UI can
 * show "the device said: …" verbatim and reports can quote it. Transport failures (TimeoutError,
 * DisconnectedError, AbortedError) come from main/transport unchanged.
 */
import { FlashlineError } from '../../common/errors.js';

export const FASTBOOT_ERROR_CODES = {
  fail: 'fastboot_fail',
  protocol: 'fastboot_protocol',
} as const;

/** The device answered FAIL. */
export class FastbootFailError extends FlashlineError {
  /** The command we sent (e.g. `flash:boot_a`). */
  readonly command: string;
  /** The device's FAIL text, verbatim (may be empty). */
  readonly deviceMessage: string;
  constructor(command: string, deviceMessage: string) {
    super(
      FASTBOOT_ERROR_CODES.fail,
      deviceMessage
        ? `the device refused '${command}': ${JSON.stringify(deviceMessage)}`
        : `the device refused '${command}' without saying why`,
      { command, deviceMessage },
    );
    this.name = 'FastbootFailError';
    this.command = command;
    this.deviceMessage = deviceMessage;
  }
}

/** The device answered something the protocol does not allow here (malformed packet, unexpected DATA). */
export class FastbootProtocolError extends FlashlineError {
  readonly command: string;
  constructor(command: string, problem: string, options?: { cause?: unknown }) {
    super(
      FASTBOOT_ERROR_CODES.protocol,
      `the device's reply to '${command}' broke the fastboot protocol: ${problem}`,
      { command },
      options,
    );
    this.name = 'FastbootProtocolError';
    this.command = command;
  }
}
