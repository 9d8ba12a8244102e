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
}

export interface EdlSession {
  readonly firehose: FirehoseClient;
  /** Absent when the programmer already ran. */
  readonly identity?: SaharaIdentity;
  readonly config: ConfigureResult & { readonly sectorSize: number };
}

export async function startEdlSession(link: StreamLink, opts: EdlSessionOptions): Promise<EdlSession> {
  const call = opts.signal ? { signal: opts.signal } : {};
  const sahara = new SaharaClient(link, opts);
  let firehose: FirehoseClient;
  let identity: SaharaIdentity | undefined;
  try {
    identity = await sahara.identify(call);
    if (!opts.programmer)
      throw new TypeError('a programmer file is needed: the device is in the boot ROM (Sahara)');
    await sahara.uploadProgrammer(opts.programmer, {
      ...call,
      ...(identity.oemPkHash ? { expectedOemPkHash: identity.oemPkHash } : {}),
      ...(opts.allowUnknownSigner ? { allowUnknownSigner: true } : {}),
      ...(opts.onProgrammerProgress ? { onProgress: opts.onProgrammerProgress } : {}),
    });
    firehose = new FirehoseClient(link);
  } catch (err) {
    if (!(err instanceof FirehoseAlreadyRunningError)) throw err;
    firehose = new FirehoseClient(link, err.pending);
  }
  await firehose.drain(call);
  const config = await detectStorage(firehose, {
    ...call,
    ...(opts.storage ? { prefer: opts.storage } : {}),
  });
  return { firehose, ...(identity ? { identity } : {}), config };
}
