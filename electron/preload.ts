/**
 * The preload: the renderer's only door to the main process. It exposes four named functions (send and
 * listen on the API channel, the package file dialog, the history export's save dialog) — never
 * ipcRenderer itself — and main validates every message and its sender.
 * The exposed type is derived from the object (PreloadApi) and checked against the renderer's contract.
 */
import { contextBridge, type IpcRendererEvent, ipcRenderer } from 'electron';
import {
  IPC_CHANNEL,
  type IpcBridge,
  type IpcClientMessage,
  type IpcServerMessage,
  PICK_PACKAGE_CHANNEL,
  type ReportExportRequest,
  SAVE_EXPORT_CHANNEL,
  type SaveExportResult,
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
  async saveReportExport(request: ReportExportRequest): Promise<SaveExportResult> {
    // Only the format and filter cross over; main makes the file's contents from its own history.
    const result: unknown = await ipcRenderer.invoke(SAVE_EXPORT_CHANNEL, {
      format: request.format,
      text: request.text,
      outcome: request.outcome,
    });
    const r = result as Partial<{ saved: unknown; path: unknown; count: unknown; message: unknown }> | null;
    if (r?.saved === true && typeof r.path === 'string' && typeof r.count === 'number') {
      return { saved: true, path: r.path, count: r.count };
    }
    return { saved: false, ...(typeof r?.message === 'string' ? { message: r.message } : {}) };
  },
} satisfies IpcBridge;

export type PreloadApi = typeof api;

contextBridge.exposeInMainWorld('flashline', api);
