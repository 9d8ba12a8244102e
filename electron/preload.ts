/**
 * The preload: the renderer's only door to the main process. It exposes three named functions (send and
 * listen on the API channel, and the package file dialog) — never ipcRenderer itself — and main validates
 * every message and its sender.
 * The exposed type is derived from the object (PreloadApi) and checked against the renderer's contract.
 */
import { contextBridge, type IpcRendererEvent, ipcRenderer } from 'electron';
import {
  IPC_CHANNEL,
  type IpcBridge,
  type IpcClientMessage,
  type IpcServerMessage,
  PICK_PACKAGE_CHANNEL,
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
  async pickPackageFile(): Promise<string | null> {
    const path: unknown = await ipcRenderer.invoke(PICK_PACKAGE_CHANNEL);
    return typeof path === 'string' ? path : null;
  },
} satisfies IpcBridge;

export type PreloadApi = typeof api;

contextBridge.exposeInMainWorld('flashline', api);
