/**
 * The desktop shell: one window showing the renderer from app://flashline, the service API served over
 * IPC from the same router and composition as station mode. Every security decision is a pure function
 * in ./security.ts; this file only wires them to Electron's hooks.
 */
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import {
  app,
  BrowserWindow,
  dialog,
  type IpcMainEvent,
  type IpcMainInvokeEvent,
  ipcMain,
  protocol,
  session,
} from 'electron';
import {
  IPC_CHANNEL,
  PICK_PACKAGE_CHANNEL,
  SAVE_EXPORT_CHANNEL,
  type SaveExportResult,
} from '../main/api/ipc-protocol.js';
import { appRouter } from '../main/api/router.js';
import { flashlineHome, projectRoot } from '../main/common/paths.js';
import { FLASHLINE_VERSION } from '../main/common/version.js';
import { readSecretFile } from '../main/fleet/db.js';
import { startStationFleet } from '../main/station/fleet-live.js';
import { startLiveService } from '../main/station/live-service.js';
import { saveReportExport } from './export-save.js';
import { createIpcDispatcher } from './ipc-dispatcher.js';
import {
  APP_ENTRY_URL,
  APP_SCHEME,
  DESKTOP_CSP,
  decidePermission,
  isNavigationAllowed,
  isTrustedSender,
  resolveAppAsset,
} from './security.js';

/** Printed once the window shows, so scripts/start.mjs knows the desktop started (else it falls back). */
const READY_MARKER = 'FLASHLINE_WINDOW_READY';
const rendererDir = join(projectRoot, 'dist', 'renderer');
const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);
app.enableSandbox();

async function serveAsset(request: Request): Promise<Response> {
  const file = resolveAppAsset(request.url, rendererDir);
  if (!file) return new Response('Not found', { status: 404 });
  try {
    const body = await readFile(file);
    return new Response(body, {
      headers: {
        'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
        'Content-Security-Policy': DESKTOP_CSP,
        'X-Content-Type-Options': 'nosniff',
      },
    });
  } catch {
    return new Response('Not found', { status: 404 });
  }
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1200,
    height: 800,
    show: false,
    title: 'Flashline',
    webPreferences: {
      preload: join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      // Middle-click (auxclick) could open links in new windows around the window-open handler.
      disableBlinkFeatures: 'Auxclick',
    },
  });
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (event, url) => {
    if (!isNavigationAllowed(url)) event.preventDefault();
  });
  win.webContents.on('will-redirect', (event, url) => {
    if (!isNavigationAllowed(url)) event.preventDefault();
  });
  win.webContents.on('will-attach-webview', (event) => event.preventDefault());
  win.once('ready-to-show', () => {
    win.show();
    process.stdout.write(`${READY_MARKER}\n`);
  });
  return win;
}

async function main(): Promise<void> {
  await app.whenReady();
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, permission, callback, details) =>
    callback(decidePermission(permission, details.requestingUrl)),
  );
  ses.setPermissionCheckHandler((_wc, permission, requestingOrigin) =>
    decidePermission(permission, requestingOrigin),
  );
  ses.setDevicePermissionHandler(() => false);
  // Page-started downloads stay blocked: the history export is saved through SAVE_EXPORT_CHANNEL instead.
  ses.on('will-download', (event) => event.preventDefault());
  // The protocol handler already sends the CSP; this covers any other response the session loads.
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [DESKTOP_CSP] } });
  });
  protocol.handle(APP_SCHEME, serveAsset);

  // The same composition as `flashline station`: live USB/serial discovery and the flash engine.
  const live = await startLiveService({
    mode: 'desktop',
    usb: true,
    serial: true,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  // The fleet view's sources (live bus, central history) when this home is part of a fleet; else none.
  const fleet = await startStationFleet({
    home: flashlineHome(),
    version: FLASHLINE_VERSION,
    sources: { devices: live.service.devices, jobs: live.jobs },
    log: (line) => process.stderr.write(`${line}\n`),
    readSecretFile,
  });
  const service = { ...live.service, fleet: fleet.context };
  const dispatcher = createIpcDispatcher({ router: appRouter, createContext: () => service });
  const win = createWindow();
  const ownId = win.webContents.id;

  ipcMain.on(IPC_CHANNEL, (event: IpcMainEvent, raw: unknown) => {
    const frame = event.senderFrame;
    const trusted = isTrustedSender({
      frameUrl: frame?.url,
      isMainFrame: frame !== null && frame === event.sender.mainFrame,
      isOwnWindow: event.sender.id === ownId,
    });
    if (!trusted || !frame) return;
    dispatcher.handle(
      {
        key: `${event.sender.id}:${frame.routingId}`,
        send: (message) => {
          if (!frame.isDestroyed()) frame.send(IPC_CHANNEL, message);
        },
      },
      raw,
    );
  });
  const fromOwnTopFrame = (event: IpcMainInvokeEvent): boolean => {
    const frame = event.senderFrame;
    return isTrustedSender({
      frameUrl: frame?.url,
      isMainFrame: frame !== null && frame === event.sender.mainFrame,
      isOwnWindow: event.sender.id === ownId,
    });
  };
  // The package file dialog: the page gets a path (never file contents), and only from its own top frame.
  ipcMain.handle(PICK_PACKAGE_CHANNEL, async (event: IpcMainInvokeEvent): Promise<string | null> => {
    if (!fromOwnTopFrame(event)) return null;
    const result = await dialog.showOpenDialog(win, {
      title: 'Open a Flashline package',
      properties: ['openFile'],
      filters: [{ name: 'Flashline package', extensions: ['flp'] }],
    });
    const path = result.canceled ? undefined : result.filePaths[0];
    return path && /\.flp$/i.test(path) ? path : null;
  });
  // The history export: the page names format and filter; main makes the contents and writes the file.
  ipcMain.handle(
    SAVE_EXPORT_CHANNEL,
    async (event: IpcMainInvokeEvent, raw: unknown): Promise<SaveExportResult> => {
      if (!fromOwnTopFrame(event)) return { saved: false, message: 'Refused: not the app window.' };
      return saveReportExport(
        {
          flash: service.flash,
          async showSaveDialog(suggestedName, format) {
            const result = await dialog.showSaveDialog(win, {
              title: 'Export job history',
              defaultPath: suggestedName,
              filters: [
                format === 'csv'
                  ? { name: 'CSV', extensions: ['csv'] }
                  : { name: 'JSON', extensions: ['json'] },
              ],
            });
            return result.canceled ? undefined : result.filePath;
          },
        },
        raw,
      );
    },
  );
  // A reload or a closed window ends that page's subscriptions.
  win.webContents.on('did-start-navigation', (details) => {
    if (!details.isSameDocument && details.isMainFrame) {
      dispatcher.dropPeer(`${ownId}:${details.frame?.routingId ?? ''}`);
    }
  });
  win.on('closed', () => {
    dispatcher.close();
    void fleet.stop();
    live.stop();
  });
  app.on('window-all-closed', () => app.quit());
  await win.loadURL(APP_ENTRY_URL);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `Flashline desktop failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  app.exit(1);
});
