/**
 * The ADB client the product's sources use by default (main/protocol/adb's openAdb). Kept in one place so
 * every source and command opens ADB the same way, with this computer's keys in `<home>/adb/`.
 */
import type { AdbOpener } from './adb-endpoints.js';

export const openAdbDefault: AdbOpener = async (id) => {
  throw new Error(`${id}: the ADB client is not built into this Flashline yet`);
};
