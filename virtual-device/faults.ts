/**
 * Fault injection, as data: the CLI flags and the test API produce the same `Faults` object.
 * One-shot faults (drop-at-byte, power-loss) fire once per device and are then cleared, so the host's
 * retry or resume can succeed afterwards.
 */
import type { Slot } from './state-store.js';

export const POWER_LOSS_STAGES = [
  'download',
  'flash',
  'erase',
  'set_active',
  'reboot',
  'mark-successful',
  'ota-download',
  'ota-switch',
] as const;
export type PowerLossStage = (typeof POWER_LOSS_STAGES)[number];

export interface PowerLossFault {
  readonly stage: PowerLossStage;
  /**
   * download/flash: byte offset of the data being received/written at which power goes.
   * ota-download: byte offset in the package file the OTA agent streams into its inactive slot (each byte
   * is written to the slot as its block verifies, so this covers the download and the install).
   * ota-switch: the OTA agent's step after the download (0 = before the slot is made bootable, 1 = after,
   * before set_active; set_active, reboot and mark-successful keep their own stages).
   * erase/set_active/reboot/mark-successful: the step index (0 = before the first persisted write;
   * k = right after the k-th persisted write of that operation).
   */
  readonly at: number;
}

export interface Faults {
  /** Cable pull: the connection drops once this many bytes of a download's data have arrived. */
  readonly dropAtByte?: number;
  readonly powerLoss?: PowerLossFault;
  /** Slots whose boot always fails (burns a retry each time). */
  readonly badBoot?: readonly Slot[];
  /** Pace the link (bytes per second received), like USB 2 or a UART. */
  readonly rateBytesPerSecond?: number;
  /** Delay before every response packet. */
  readonly latencyMs?: number;
  /** Reply with malformed packets instead of valid responses (host robustness tests). */
  readonly garbageReplies?: boolean;
}

export class PowerCutError extends Error {
  constructor(readonly fault: PowerLossFault) {
    super(`simulated power loss at ${fault.stage}:${fault.at}`);
    this.name = 'PowerCutError';
  }
}

/** Parse `STAGE[:N]` (N defaults to 0). Throws RangeError with a message naming the valid stages. */
export function parsePowerLoss(spec: string): PowerLossFault {
  const m = /^([a-z_-]+)(?::(\d{1,15}))?$/.exec(spec);
  const stage = POWER_LOSS_STAGES.find((s) => s === m?.[1]);
  if (!m || !stage) {
    throw new RangeError(
      `'${spec}' is not STAGE[:N]; STAGE is one of ${POWER_LOSS_STAGES.join(', ')} and N a byte offset or step`,
    );
  }
  return { stage, at: m[2] === undefined ? 0 : Number(m[2]) };
}
