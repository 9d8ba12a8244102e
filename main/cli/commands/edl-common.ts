/**
 * What `flashline backup` needs around an EDL session: the EDL options, opening a session, and the status
 * code a failure ends with (the same mapping as the rescue job's).
 */
import { type Command, InvalidArgumentError } from 'commander';
import { FlashlineError } from '../../common/errors.js';
import { rescueStatusOf } from '../../flash/rescue/report.js';
import {
  type EdlSession,
  STORAGE_TYPES,
  type StorageType,
  startEdlSession,
} from '../../protocol/firehose/index.js';
import { openStreamLink } from '../../transport/index.js';

export interface EdlCliCommon {
  device: string;
  programmer?: string;
  storage?: StorageType;
  allowUnknownSigner: boolean;
}

export function withEdlOptions(command: Command): Command {
  return command
    .requiredOption(
      '--device <id>',
      'the device in EDL: usb:SERIAL or usb:05c6:9008 (USB), serial:PATH (COM port, pty) or edl:HOST:PORT (virtual device)',
    )
    .option(
      '--programmer <file>',
      'the Firehose programmer for this device (not needed when one already runs)',
    )
    .option(
      '--storage <type>',
      `storage type to try first (${STORAGE_TYPES.join(', ')}); detected otherwise`,
      (v: string) => {
        if (!(STORAGE_TYPES as readonly string[]).includes(v))
          throw new InvalidArgumentError(`'${v}' is not ${STORAGE_TYPES.join(', ')}.`);
        return v as StorageType;
      },
    )
    .option('--allow-unknown-signer', 'send a programmer whose signer cannot be read (vendor ELFs)', false);
}

export async function openEdl(opts: EdlCliCommon, signal?: AbortSignal): Promise<EdlSession> {
  const link = await openStreamLink(opts.device, signal ? { signal } : {});
  try {
    return await startEdlSession(link, {
      ...(opts.programmer ? { programmer: opts.programmer } : {}),
      ...(opts.storage ? { storage: opts.storage } : {}),
      allowUnknownSigner: opts.allowUnknownSigner,
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    await link.close();
    throw err;
  }
}

/** Exit status for an EDL failure: the rescue job's mapping (main/flash/rescue/report.ts), at its backup stage. */
export function edlStatus(err: unknown): number {
  return rescueStatusOf(err, 'backup');
}

/** Print a failure the way other commands do: message, the device's log when there is one. */
export function reportEdlFailure(err: unknown): number {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`error: ${message}\n`);
  const detail =
    err instanceof FlashlineError ? (err.detail as { deviceLog?: readonly string[] } | undefined) : undefined;
  for (const line of detail?.deviceLog ?? []) process.stderr.write(`  device: ${line}\n`);
  return edlStatus(err);
}
