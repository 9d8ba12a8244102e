/** fastboot host side: client, slots, large-image flashing, errors, and the shared wire codecs. */
export {
  type CallOptions,
  type CommandResult,
  DEFAULT_RESPONSE_TIMEOUT_MS,
  FastbootClient,
  type FastbootClientEvents,
  type FastbootClientOptions,
  type FastbootMessage,
  parseSizeVar,
} from './client.js';
export { FASTBOOT_ERROR_CODES, FastbootFailError, FastbootProtocolError } from './errors.js';
export {
  type FlashImageOptions,
  type FlashImageResult,
  flashImage,
  type ImageSource,
} from './flash-image.js';
export { openFastboot } from './open.js';
export {
  getSlotInfo,
  hasSlot,
  normalizeSlot,
  otherSlot,
  resolvePartition,
  type SlotInfo,
  type SlotSelector,
} from './slots.js';
