/**
 * The device-side OTA agent (stub: the API the demo wires; the update itself follows).
 */
import { EventEmitter } from 'node:events';
import type { OtaReport } from '../../main/protocol/ota/report.js';
import type { OtaHost } from './host.js';
import { checkOtaOptions, type OtaAgentOptions } from './options.js';

/** What one poll did: nothing newer (`none`), or an attempt that ended with a status code. */
export type OtaPollResult =
  | { readonly outcome: 'none'; readonly why: string }
  | { readonly outcome: 'attempt'; readonly status: number; readonly report: OtaReport };

export class OtaAgent extends EventEmitter<{
  /** Every report of every attempt, as it is queued (before it is sent). */
  report: [OtaReport];
  /** Something a person running the device should see (the agent keeps running). */
  problem: [message: string];
}> {
  readonly options: OtaAgentOptions;

  constructor(
    readonly host: OtaHost,
    options: OtaAgentOptions,
  ) {
    super();
    this.options = checkOtaOptions(options);
  }

  start(): void {}

  async pollNow(): Promise<OtaPollResult> {
    return { outcome: 'none', why: 'the OTA agent is not implemented yet' };
  }

  async stop(): Promise<void> {}
}
