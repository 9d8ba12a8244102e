/**
 * What `backup` and `rescue` share: the EDL options, opening a session, and the status code an EDL failure
 * ends with. Dedicated EDL sub-codes belong in main/common/status-codes.ts (engine-owned); until they are
 * added, failures map to the decade's general code or an existing link code.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { FlashlineError } from '../../common/errors.js';
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

/** Exit status for an EDL failure (decades of docs/status-codes.md). */
export function edlStatus(err: unknown): number {
  const code = err instanceof FlashlineError ? err.code : 'internal';
  switch (code) {
    case 'programmer_refused':
    case 'sahara_status':
      return 20; // verify_failed: the programmer is not for this device
    case 'firehose_nak':
    case 'firehose_storage_unknown':
      return 30; // install_failed: the device refused a write/read
    case 'disconnected':
      return 11;
    case 'timeout':
      return 12;
    default:
      return 10;
  }
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
