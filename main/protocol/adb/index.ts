/**
 * ADB host side: open a connection (`openAdb` for `adb:HOST:PORT`, `connectAdb` over an open link), the
 * contract callers use, the key store, and the wire codecs the virtual device shares.
 */
export { DEFAULT_ADB_CALL_TIMEOUT_MS, MAX_SHELL_OUTPUT } from './connection.js';
export * from './contract.js';
export { ADB_HOST_FEATURES, type AdbHandshakeOptions } from './handshake.js';
export { type AdbKeyPair, defaultAdbKeyDir, loadAdbKey } from './key-store.js';
export {
  AdbKeyFormatError,
  adbKeyFingerprint,
  adbPublicKeyBlob,
  decodeAndroidPublicKey,
  encodeAndroidPublicKey,
  formatAdbPublicKey,
  signAdbToken,
  verifyAdbToken,
} from './keys.js';
export { type AdbMessageLink, packetMessageLink, streamMessageLink } from './message-link.js';
export { type AdbOpenOptions, connectAdb, openAdb } from './open.js';
