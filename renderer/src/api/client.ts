/**
 * The renderer's one typed API client. In the desktop app the preload bridge is present and calls go
 * over IPC; in a browser (station mode) they go over the token-protected WebSocket. Everything above
 * this file is identical in both.
 */
import { createTRPCClient, createWSClient, type TRPCClient, TRPCClientError, wsLink } from '@trpc/client';
import type { AppRouter, IpcBridge, ReportExportRequest } from '../../../main/api/types.js';
import { type ConnectionStatus, connectionFromWs } from './connection.js';
import { savedMessage } from './history.js';
import { ipcLink } from './ipc-link.js';
import { stationApiUrl, TOKEN_STORAGE_KEY, takeStationToken } from './token.js';
import { uploadToStation } from './upload.js';

declare global {
  interface Window {
    /** Present only inside the desktop app (electron/preload.ts). */
    readonly flashline?: IpcBridge;
  }
}

export type ApiClient = TRPCClient<AppRouter>;

export interface Api {
  readonly client: ApiClient;
  readonly transport: 'ipc' | 'websocket';
  /**
   * How a package file reaches the service: the desktop file dialog (a path) or an upload to the station
   * (the page cannot read local paths). Both resolve to a path for `packages.open`.
   */
  readonly packageSource: 'dialog' | 'upload';
  /** Desktop: show the file dialog; null when cancelled. */
  pickPackageFile(): Promise<string | null>;
  /** Station: stream the file to the station; resolves to the path it was stored at. */
  uploadPackage(file: File, signal?: AbortSignal): Promise<string>;
  /**
   * Export the history (made by the service): the desktop save dialog, or a browser download in station
   * mode. Resolves to what to tell the user, or null when the dialog was cancelled; rejects on failure.
   */
  exportHistory(request: ReportExportRequest): Promise<string | null>;
  /** Current connection state and a way to follow it. */
  connection(): ConnectionStatus;
  onConnection(listener: (status: ConnectionStatus) => void): () => void;
}

/** Station mode: hand the service-made export to the browser as a download. */
function downloadText(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function readStoredToken(): string | null {
  try {
    return window.sessionStorage.getItem(TOKEN_STORAGE_KEY);
  } catch {
    return null;
  }
}

function storeToken(token: string): void {
  try {
    window.sessionStorage.setItem(TOKEN_STORAGE_KEY, token);
  } catch {
    // Storage can be disabled; the token then lives only as long as this page.
  }
}

export function createApi(): Api {
  const listeners = new Set<(status: ConnectionStatus) => void>();
  let status: ConnectionStatus = { state: 'connecting' };
  const setStatus = (next: ConnectionStatus) => {
    status = next;
    for (const l of listeners) l(next);
  };
  const base = {
    connection: () => status,
    onConnection(listener: (s: ConnectionStatus) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };

  const bridge = window.flashline;
  if (bridge) {
    // IPC cannot drop while the window exists.
    status = { state: 'connected' };
    return {
      ...base,
      transport: 'ipc',
      packageSource: 'dialog',
      pickPackageFile: async () => (bridge.pickPackageFile ? bridge.pickPackageFile() : null),
      uploadPackage: () => Promise.reject(new Error('Uploads are for station mode; use Open package…')),
      client: createTRPCClient<AppRouter>({ links: [ipcLink(bridge)] }),
      async exportHistory(request) {
        if (!bridge.saveReportExport) throw new Error('This app cannot save exports; update Flashline.');
        const result = await bridge.saveReportExport(request);
        if (result.saved) return savedMessage(result.count, result.path);
        if (result.message) throw new Error(result.message);
        return null;
      },
    };
  }

  const { token, cleanUrl } = takeStationToken(window.location.href, readStoredToken());
  if (cleanUrl !== null) window.history.replaceState(window.history.state, '', cleanUrl);
  if (token) storeToken(token);
  if (!token) {
    status = {
      state: 'disconnected',
      detail: "This page has no station token. Open the full URL printed by 'flashline station'.",
    };
  }
  let everConnected = false;
  const ws = createWSClient({
    url: stationApiUrl(window.location.href, token ?? 'missing'),
    // Back off up to 5 s: a station restarting on the same port is found again quickly.
    retryDelayMs: (attempt) => Math.min(250 * 2 ** attempt, 5000),
  });
  ws.connectionState.subscribe({
    next(link) {
      if (!token) return;
      const next = connectionFromWs(
        { state: link.state, error: link.error ? { message: link.error.message } : null },
        everConnected,
      );
      if (link.state === 'pending') everConnected = true;
      setStatus(next);
    },
  });
  const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] });
  return {
    ...base,
    transport: 'websocket',
    packageSource: 'upload',
    pickPackageFile: async () => null,
    uploadPackage: (file, signal) => uploadToStation(window.location.href, token ?? '', file, signal),
    client,
    async exportHistory(request) {
      const made = await client.jobs.exportReports.query(request);
      downloadText(made.fileName, made.mediaType, made.text);
      return savedMessage(made.count, made.fileName);
    },
  };
}

/** The technician-facing message of an API error ({code,message,detail} from the server). */
export function errorMessage(err: unknown): string {
  if (err instanceof TRPCClientError) {
    const data = err.data as { flashline?: { message?: unknown } } | undefined;
    const message = data?.flashline?.message;
    if (typeof message === 'string') return message;
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

/** The {code, message} of an API error; code 'client' for failures that never reached the service. */
export function errorData(err: unknown): { code: number | string; message: string } {
  if (err instanceof TRPCClientError) {
    const data = err.data as { flashline?: { code?: unknown; message?: unknown } } | undefined;
    const f = data?.flashline;
    if (f && (typeof f.code === 'number' || typeof f.code === 'string') && typeof f.message === 'string') {
      return { code: f.code, message: f.message };
    }
  }
  return { code: 'client', message: errorMessage(err) };
}
