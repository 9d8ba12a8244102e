/**
 * Modem actions over serial: identify (AT) and enter a mode with the vendor table's steps. Opens, acts and
 * closes; every step is bounded. A modem leaving the bus after a switch is success, not an error: that is
 * what a re-enumerating USB device looks like from its serial port.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AtClient, type AtClientOptions, identifyModem, type ModemIdentity } from '../protocol/at/index.js';
import { diagEnterEdl } from '../protocol/diag/index.js';
import { DisconnectedError, openSerialStream, type SerialBackend, TimeoutError } from '../transport/index.js';
import type { StreamLink } from '../transport/types.js';
import { loadModemVendors, type ModemStep, type ModemVendor, matchModemVendor } from './modem-vendors.js';

export interface ModemPortOptions {
  readonly signal?: AbortSignal;
  /** Per-command limit (ms). */
  readonly timeoutMs?: number;
  readonly backend?: SerialBackend;
  readonly at?: AtClientOptions;
}

/** How long a port gets to vanish after a switch before the next step is tried. */
const LEAVE_WAIT_MS = 3000;

async function withPort<T>(
  path: string,
  opts: ModemPortOptions,
  use: (link: StreamLink) => Promise<T>,
): Promise<T> {
  const link = await openSerialStream({
    path,
    timeoutMs: 2000,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.backend ? { backend: opts.backend } : {}),
  });
  try {
    return await use(link);
  } finally {
    await link.close();
  }
}

const io = (opts: ModemPortOptions) => ({
  ...(opts.signal ? { signal: opts.signal } : {}),
  ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
});

/** Identify the modem on an AT port. @throws OpenError, TimeoutError, AtProtocolError, DisconnectedError */
export function identifyModemAt(path: string, opts: ModemPortOptions = {}): Promise<ModemIdentity> {
  return withPort(path, opts, (link) => identifyModem(new AtClient(link, opts.at), io(opts)));
}

export interface ModeSwitchResult {
  readonly identity?: ModemIdentity;
  readonly vendor: string;
  readonly vendorFile: string;
  /** What each step did. */
  readonly done: readonly { readonly step: ModemStep; readonly outcome: string }[];
  /** Steps left for the technician (ADB from the mode reached) — empty when the modem already left. */
  readonly pending: readonly ModemStep[];
  /**
   * The modem left, and the table goes on over ADB (ZTE: `adb reboot edl` from ZTE download mode): the ADB
   * commands to send if it shows up as an ADB device (a unit that went straight to EDL never does).
   */
  readonly ifAdbAppears?: readonly (readonly string[])[];
}

/** No table entry covers this modem for the mode, or its entry needs a port that was not given. */
export class NoModeSwitchError extends Error {
  constructor(
    readonly identity: ModemIdentity,
    why = `no entry in resources/modems knows how to take ${identity.manufacturer ?? 'this modem'} ${identity.model ?? ''} into download mode; try --via diag with its DIAG port`,
  ) {
    super(why);
    this.name = 'NoModeSwitchError';
  }
}

/**
 * Enter EDL: identify over AT, pick the vendor entry, run its steps. `via: 'diag'` skips AT and sends the
 * DIAG EDL switch on `path` (a DIAG port).
 * @throws NoModeSwitchError, AtCommandError, OpenError, TimeoutError, AtProtocolError, DiagRefusedError…
 */
export async function enterModemEdl(
  path: string,
  opts: ModemPortOptions & {
    readonly via?: 'at' | 'diag';
    readonly diagPath?: string;
    readonly vendors?: readonly ModemVendor[];
  } = {},
): Promise<ModeSwitchResult> {
  if (opts.via === 'diag') {
    const outcome = await withPort(path, opts, (link) => diagEnterEdl(link, io(opts)));
    return {
      vendor: 'DIAG EDL switch',
      vendorFile: '',
      done: [{ step: { diag: 'edl' }, outcome }],
      pending: [],
    };
  }
  const vendors = opts.vendors ?? loadModemVendors();
  return withPort(path, opts, async (link) => {
    const client = new AtClient(link, opts.at);
    const identity = await identifyModem(client, io(opts));
    const vendor = matchModemVendor(vendors, identity, 'edl');
    if (!vendor?.edl) throw new NoModeSwitchError(identity);
    const done: { step: ModemStep; outcome: string }[] = [];
    const steps = vendor.edl;
    for (const [i, step] of steps.entries()) {
      if ('adb' in step)
        return { identity, vendor: vendor.name, vendorFile: vendor.file, done, pending: steps.slice(i) };
      if ('diag' in step) {
        if (!opts.diagPath)
          throw new NoModeSwitchError(
            identity,
            `${vendor.name} modems enter download mode through their DIAG port; give it with --diag serial:PATH`,
          );
        const outcome = await withPort(opts.diagPath, opts, (d) => diagEnterEdl(d, io(opts)));
        done.push({ step, outcome });
        return { identity, vendor: vendor.name, vendorFile: vendor.file, done, pending: [] };
      }
      const outcome = await runAtStep(client, step, opts);
      done.push({ step, outcome });
      if (await left(link, opts.signal)) {
        const adb = steps.slice(i + 1).flatMap((st) => ('adb' in st ? [st.adb] : []));
        return {
          identity,
          vendor: vendor.name,
          vendorFile: vendor.file,
          done,
          pending: [],
          ...(adb.length > 0 ? { ifAdbAppears: adb } : {}),
        };
      }
    }
    return { identity, vendor: vendor.name, vendorFile: vendor.file, done, pending: [] };
  });
}

async function runAtStep(
  client: AtClient,
  step: { at: string; answer: 'ok' | 'maybe' },
  opts: ModemPortOptions,
): Promise<string> {
  try {
    await client.command(step.at, io(opts));
    return 'OK';
  } catch (err) {
    // A switch that may leave without a word (Quectel AT+QFASTBOOT) is judged by the port going away.
    if (step.answer === 'maybe' && (err instanceof TimeoutError || err instanceof DisconnectedError))
      return 'no answer (allowed)';
    throw err;
  }
}

/** True once the port went away within LEAVE_WAIT_MS: the modem is re-enumerating in its new mode. */
async function left(link: StreamLink, signal?: AbortSignal): Promise<boolean> {
  const gone = await Promise.race([
    link.disconnected.then(() => true),
    sleep(LEAVE_WAIT_MS, false, signal ? { signal } : {}).catch(() => false),
  ]);
  return gone;
}
