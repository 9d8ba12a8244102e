/**
 * The rescue job (Qualcomm EDL → a bootable device back in fastboot). The contract is in ./contract.ts;
 * `createRunRescue(deps)` builds a RunRescue over any ports, `runRescue` over the real ones (deps.ts).
 */
import type { RunRescue } from './contract.js';
import { defaultRescueDeps } from './deps.js';
import { createRunRescue } from './run.js';

export * from './contract.js';
export { defaultRescueDeps, type RescueDepsOptions } from './deps.js';
export { createRunRescue, DEFAULT_COME_BACK_MS, defaultComeBackId, type RescueDeps } from './run.js';

/** A rescue with the default trust directories and station keys. */
export const runRescue: RunRescue = (req, onProgress) =>
  createRunRescue(defaultRescueDeps())(req, onProgress);
