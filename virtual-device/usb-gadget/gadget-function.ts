/**
 * Pieces both gadget processes use (serve.ts: Flashline's reference device, fastboot only; phone-gadget.ts:
 * a stock Android phone, ADB in Android and fastboot in the bootloader): building a configfs gadget with its
 * one FunctionFS function, the JSON report lines on stdout, and a teardown that frees the UDC on SIGTERM.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigfsGadget, type GadgetSpec } from './configfs.js';
import { FunctionFs } from './functionfs.js';

export interface FunctionGadget {
  readonly gadget: ConfigfsGadget;
  readonly ffs: FunctionFs;
}

/** One JSON object per stdout line: {"gadget":"ready"|"event"|"session-end"|"error"|…, …}. */
export const report = (obj: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
};

const created = new Set<ConfigfsGadget>();

/** Create the configfs tree, mount functionfs and write the descriptors; not bound yet. */
export async function createFunctionGadget(
  spec: GadgetSpec,
  descriptors: Uint8Array,
  strings: Uint8Array,
): Promise<FunctionGadget> {
  const gadget = new ConfigfsGadget(spec);
  await gadget.create();
  created.add(gadget);
  const ffs = await FunctionFs.open(spec.ffsMount, descriptors, strings);
  ffs.on('event', (ev) => report({ gadget: 'event', function: spec.ffsInstance, event: ev }));
  return { gadget, ffs };
}

/** After an unbind: let the DISABLE event land before waiting for the next ENABLE (bounded, 2 s). */
export async function waitDetached(ffs: FunctionFs): Promise<void> {
  for (let i = 0; i < 40 && ffs.enabled; i++) await sleep(50);
}

/**
 * On SIGTERM, unbind every gadget this process made so the UDC is free for the next gadget process (the
 * USB test runs Flashline's reference device first, then a stock phone), and exit.
 */
export function unbindOnSigterm(): void {
  process.once('SIGTERM', () => {
    void Promise.allSettled([...created].map((g) => g.unbind())).then(() => process.exit(0));
  });
}
