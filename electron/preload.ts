/**
 * The preload: the renderer's only door to the main process. It exposes two named functions on one
 * fixed channel — never ipcRenderer itself — and main validates every message and its sender.
 * The exposed type is derived from the object (PreloadApi) and checked against the renderer's contract.
 */
import { contextBridge, type IpcRendererEvent, ipcRenderer } from 'electron';
import {
  IPC_CHANNEL,
  type IpcBridge,
  type IpcClientMessage,
  type IpcServerMessage,
} from '../main/api/ipc-protocol.js';

const api = {
  sendApiMessage(message: IpcClientMessage): void {
    ipcRenderer.send(IPC_CHANNEL, message);
  },
  onApiMessage(listener: (message: IpcServerMessage) => void): () => void {
    const handler = (_event: IpcRendererEvent, message: IpcServerMessage) => listener(message);
    ipcRenderer.on(IPC_CHANNEL, handler);
    return () => {
      ipcRenderer.off(IPC_CHANNEL, handler);
    };
  },
} satisfies IpcBridge;

export type PreloadApi = typeof api;

contextBridge.exposeInMainWorld('flashline', api);
