/**
 * Sahara errors. The device's own status (END_OF_IMAGE / DONE_RESP) is kept apart from our message so a
 * report can quote it; transport failures (TimeoutError, DisconnectedError, AbortedError) pass unchanged.
 */
import { FlashlineError } from '../../common/errors.js';
import { saharaStatusText } from './wire.js';

export const SAHARA_ERROR_CODES = {
  status: 'sahara_status',
  protocol: 'sahara_protocol',
  programmerRefused: 'programmer_refused',
  programmerRunning: 'firehose_already_running',
} as const;

/** The device ended an exchange with a non-zero status (e.g. 0x25: the programmer is not signed for it). */
export class SaharaStatusError extends FlashlineError {
  readonly status: number;
  constructor(what: string, status: number) {
    super(
      SAHARA_ERROR_CODES.status,
      `the device refused ${what}: status 0x${status.toString(16)} (${saharaStatusText(status)})`,
      { status, meaning: saharaStatusText(status) },
    );
    this.name = 'SaharaStatusError';
    this.status = status;
  }
}

/** The device sent something Sahara does not allow at this point. */
export class SaharaProtocolError extends FlashlineError {
  constructor(problem: string, options?: { cause?: unknown }) {
    super(
      SAHARA_ERROR_CODES.protocol,
      `the device broke the Sahara protocol: ${problem}`,
      undefined,
      options,
    );
    this.name = 'SaharaProtocolError';
  }
}

/** We refused to send a programmer (before a byte of it left the host). */
export class ProgrammerRefusedError extends FlashlineError {
  constructor(reason: string, detail?: unknown) {
    super(SAHARA_ERROR_CODES.programmerRefused, `the programmer was not sent: ${reason}`, detail);
    this.name = 'ProgrammerRefusedError';
  }
}

/**
 * The device answered with XML: a Firehose programmer is already running (a previous session loaded it).
 * `pending` holds the bytes already read so the Firehose reader can start from them.
 */
export class FirehoseAlreadyRunningError extends FlashlineError {
  readonly pending: Uint8Array;
  constructor(pending: Uint8Array) {
    super(
      SAHARA_ERROR_CODES.programmerRunning,
      'the device already runs a Firehose programmer (it answered with XML, not Sahara); continue with Firehose or power-cycle it into EDL',
    );
    this.name = 'FirehoseAlreadyRunningError';
    this.pending = pending;
  }
}
