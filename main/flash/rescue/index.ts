/** The rescue job (Qualcomm EDL → bootable device). The contract is in ./contract.ts. */
import type { RunRescue } from './contract.js';

export * from './contract.js';

/** Placeholder until the flow lands on the `rescue` branch (RESCUE-CLI commit). */
export const runRescue: RunRescue = async () => {
  throw new Error('rescue: not yet implemented');
};
