/**
 * Types the API's clients (renderer, station scripts, tests) may import. Type-only re-exports, so a
 * client pulls in no server code.
 */
export type { ErrorData } from '../common/errors.js';
export type { Connection, DeviceEvent, DeviceInfo, DeviceMode, DeviceState } from '../devices/device-info.js';
export type { IpcBridge, IpcClientMessage, IpcServerMessage } from './ipc-protocol.js';
export type { AppRouter } from './router.js';
