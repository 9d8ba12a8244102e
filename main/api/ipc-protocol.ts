/**
 * The message shapes of the desktop IPC transport for the one service API (see electron/ipc-dispatcher.ts
 * and renderer/src/api/ipc-link.ts). Both ends import these types from here so they cannot drift; the
 * main process also validates every incoming message with `ipcClientMessage` (./ipc-schema.ts) first.
 * Kept free of runtime imports: the sandboxed preload bundles this file.
 */

/** The single IPC channel the API uses in both directions. */
export const IPC_CHANNEL = 'flashline:api';

export type { IpcClientMessage } from './ipc-schema.js';

import type { IpcClientMessage } from './ipc-schema.js';
import type { ReportExportRequest } from './report-export.js';

export type { ReportExportRequest } from './report-export.js';

/** The error shape produced by the router's errorFormatter (data.flashline = {code,message,detail}). */
export interface IpcErrorShape {
  readonly message: string;
  readonly code: number;
  readonly data: { readonly flashline?: { code: number | string; message: string; detail?: unknown } };
}

export type IpcServerMessage =
  | { readonly kind: 'result'; readonly id: number; readonly data: unknown }
  | { readonly kind: 'started'; readonly id: number }
  | { readonly kind: 'data'; readonly id: number; readonly data: unknown }
  | { readonly kind: 'stopped'; readonly id: number }
  | { readonly kind: 'error'; readonly id: number; readonly error: IpcErrorShape };

/**
 * What the renderer's IPC link needs from the preload bridge. electron/preload.ts checks its exposed
 * object against this with `satisfies`, and derives its own type from the object.
 */
export interface IpcBridge {
  sendApiMessage(message: IpcClientMessage): void;
  /** Register the one listener for replies; returns a function that removes it. */
  onApiMessage(listener: (message: IpcServerMessage) => void): () => void;
  /** The desktop file dialog for a `.flp` package: its path, or null when cancelled. */
  pickPackageFile?(): Promise<string | null>;
  /**
   * The desktop save dialog for a history export: main makes the file's contents itself (the page only
   * names the format and filter) and writes it atomically.
   */
  saveReportExport?(request: ReportExportRequest): Promise<SaveExportResult>;
}

/** The answer to a desktop export: where it was saved, or why not (no message when cancelled). */
export type SaveExportResult =
  | { readonly saved: true; readonly path: string; readonly count: number }
  | { readonly saved: false; readonly message?: string };

/** The invoke channel of the desktop history export (input: ReportExportRequest; reply: SaveExportResult). */
export const SAVE_EXPORT_CHANNEL = 'flashline:save-export';

/** The invoke channel of the desktop package file dialog (no input; the reply is a path or null). */
export const PICK_PACKAGE_CHANNEL = 'flashline:pick-package';
