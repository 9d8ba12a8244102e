/**
 * From a device in EDL to a configured Firehose client: identify in Sahara command mode, check the
 * programmer's signer against the device's OEM PK hash (refused before a byte is sent), upload it, then
 * find the storage type and sector size. A device whose programmer already runs (it answers `<?xml`) goes
 * straight to Firehose.
 */
import type { ByteProgress, StreamLink } from '../../transport/types.js';
import { SaharaClient, type SaharaClientOptions, type SaharaIdentity } from '../sahara/client.js';
import { FirehoseAlreadyRunningError } from '../sahara/errors.js';
import type { ProgrammerSource } from '../sahara/programmer.js';
import { type ConfigureResult, FirehoseClient, type StorageType } from './client.js';
import { detectStorage } from './detect-storage.js';

export interface EdlSessionOptions extends SaharaClientOptions {
  /** Programmer file or verified bytes (needed unless one already runs). */
  readonly programmer?: ProgrammerSource;
  /** Storage type to try first (detection tries the others after it). */
  readonly storage?: StorageType;
  readonly allowUnknownSigner?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgrammerProgress?: ByteProgress;
  /**
   * Called once the device is known, before a programmer byte is sent: with its Sahara identity, or with
   * none when a programmer already runs. A throw stops the session there (a rescue's target check).
   */
  readonly onIdentified?: (identity: SaharaIdentity | undefined) => void;
}

export interface EdlSession {
  readonly firehose: FirehoseClient;
  /** Absent when the programmer already ran. */
  readonly identity?: SaharaIdentity;
  readonly config: ConfigureResult & { readonly sectorSize: number };
}

/**
 * Sahara up to a running programmer: identify, upload (unless one already runs), and the Firehose client on
 * the link. No Firehose command is sent yet; the caller holds the client (its device log) before any.
 */
export async function enterFirehose(
  link: StreamLink,
  opts: EdlSessionOptions,
): Promise<{ firehose: FirehoseClient; identity?: SaharaIdentity }> {
  const call = opts.signal ? { signal: opts.signal } : {};
  const sahara = new SaharaClient(link, opts);
  let identity: SaharaIdentity | undefined;
  try {
    identity = await sahara.identify(call);
    opts.onIdentified?.(identity);
    if (!opts.programmer)
      throw new TypeError('a programmer file is needed: the device is in the boot ROM (Sahara)');
    await sahara.uploadProgrammer(opts.programmer, {
      ...call,
      ...(identity.oemPkHash ? { expectedOemPkHash: identity.oemPkHash } : {}),
      ...(opts.allowUnknownSigner ? { allowUnknownSigner: true } : {}),
      ...(opts.onProgrammerProgress ? { onProgress: opts.onProgrammerProgress } : {}),
    });
    return { firehose: new FirehoseClient(link), identity };
  } catch (err) {
    if (!(err instanceof FirehoseAlreadyRunningError)) throw err;
    if (!identity) opts.onIdentified?.(undefined);
    return { firehose: new FirehoseClient(link, err.pending), ...(identity ? { identity } : {}) };
  }
}

export async function startEdlSession(link: StreamLink, opts: EdlSessionOptions): Promise<EdlSession> {
  const call = opts.signal ? { signal: opts.signal } : {};
  const { firehose, identity } = await enterFirehose(link, opts);
  await firehose.drain(call);
  const config = await detectStorage(firehose, {
    ...call,
    ...(opts.storage ? { prefer: opts.storage } : {}),
  });
  return { firehose, ...(identity ? { identity } : {}), config };
}
