/**
 * fastboot host side: client, slots, errors, and the shared wire codecs. Large images are split by the
 * engine's planner (main/flash/pieces.ts, send-pieces.ts) with the sparse codec in ./sparse.
 */
export {
  type CallOptions,
  type CommandResult,
  DEFAULT_RESPONSE_TIMEOUT_MS,
  FastbootClient,
  type FastbootClientEvents,
  type FastbootClientOptions,
  type FastbootMessage,
} from './client.js';
export { FASTBOOT_ERROR_CODES, FastbootFailError, FastbootProtocolError } from './errors.js';
export { openFastboot } from './open.js';
export {
  getSlotInfo,
  hasSlot,
  resolvePartition,
  type SlotInfo,
  type SlotSelector,
} from './slots.js';
export { normalizeSlot, otherSlot, parseSizeVar } from './vars.js';
