/**
 * Firehose errors. The device's `<log>` lines are kept with every failure so a report can show what the
 * programmer said; transport failures pass unchanged.
 */
import { FlashlineError } from '../../common/errors.js';

export const FIREHOSE_ERROR_CODES = {
  nak: 'firehose_nak',
  protocol: 'firehose_protocol',
  storage: 'firehose_storage_unknown',
} as const;

/** The device answered NAK. */
export class FirehoseNakError extends FlashlineError {
  readonly command: string;
  /** The device's `<log value>` lines for this command, in order (including those after the NAK). */
  readonly deviceLog: readonly string[];
  constructor(command: string, deviceLog: readonly string[], attrs: Readonly<Record<string, string>> = {}) {
    const last = deviceLog.at(-1);
    super(
      FIREHOSE_ERROR_CODES.nak,
      `the device refused '${command}'${last ? `: ${JSON.stringify(last)}` : ' without saying why'}`,
      { command, deviceLog, response: attrs },
    );
    this.name = 'FirehoseNakError';
    this.command = command;
    this.deviceLog = deviceLog;
  }
}

export class FirehoseProtocolError extends FlashlineError {
  constructor(problem: string, options?: { cause?: unknown }) {
    super(
      FIREHOSE_ERROR_CODES.protocol,
      `the device broke the Firehose protocol: ${problem}`,
      undefined,
      options,
    );
    this.name = 'FirehoseProtocolError';
  }
}

/** Neither storage type nor sector size could be found. */
export class StorageDetectError extends FlashlineError {
  constructor(tried: readonly string[], deviceLog: readonly string[]) {
    super(
      FIREHOSE_ERROR_CODES.storage,
      `the device's storage type could not be detected (tried ${tried.join(', ')}); give it with --storage emmc|ufs|nand`,
      { tried, deviceLog },
    );
    this.name = 'StorageDetectError';
  }
}
