// A stand-in for the 'electron' module (the binary cannot run here): records what dist/electron/main.cjs asks
// of Electron, then drives the IPC handler and the app:// protocol handler it registered, and prints one JSON
// report line. Used by bundle.test.ts with `node -r`.
const Module = require('node:module');
const { EventEmitter } = require('node:events');

const report = { calls: [], webPreferences: null, replies: [], protocol: [], exports: [], dialogs: [] };
const frame = (url) => ({
  url,
  routingId: 1,
  isDestroyed: () => false,
  send: (channel, message) => report.replies.push({ url, channel, message }),
});
const mainFrame = frame('app://flashline/index.html');
const webContents = Object.assign(new EventEmitter(), {
  id: 1,
  mainFrame,
  setWindowOpenHandler: (h) => report.calls.push(['windowOpen', h({ url: 'https://example.com' }).action]),
});
let ipcHandler;
let protocolHandler;
const invokeHandlers = new Map();
// Where the stubbed save dialog "chooses" to save (FLASHLINE_HOME is the test's temp dir).
const savePath = (name) => require('node:path').join(process.env.FLASHLINE_HOME, 'exports', name);
let nextSaveName = 'history.csv';

async function scenarios() {
  const ask = (senderFrame, senderId, id) =>
    ipcHandler(
      { senderFrame, sender: { id: senderId, mainFrame } },
      { kind: 'request', id, type: 'query', path: 'app.info', input: undefined },
    );
  ask(mainFrame, 1, 1); // the app's own top frame
  ask(frame('app://flashline/index.html'), 1, 2); // a sub-frame of the window
  ask(Object.assign(frame('https://evil.example/'), {}), 2, 3); // another window
  mainFrame.url = 'https://evil.example/'; // the top frame navigated away
  ask(mainFrame, 1, 4);
  mainFrame.url = 'app://flashline/index.html';
  ipcHandler(
    { senderFrame: mainFrame, sender: { id: 1, mainFrame } },
    { kind: 'request', id: 5, type: 'query', path: 'devices.get', input: { id: '' } },
  );
  // The history export: from the top frame (CSV, then filtered JSON), a sub-frame, a bad request, a cancel.
  const save = (senderFrame, senderId, request) =>
    invokeHandlers.get('flashline:save-export')(
      { senderFrame, sender: { id: senderId, mainFrame } },
      request,
    );
  nextSaveName = 'history.csv';
  report.exports.push(await save(mainFrame, 1, { format: 'csv' }));
  nextSaveName = 'history.json';
  report.exports.push(await save(mainFrame, 1, { format: 'json', outcome: 'failed' }));
  nextSaveName = 'sub.csv';
  report.exports.push(await save(frame('app://flashline/index.html'), 1, { format: 'csv' }));
  report.exports.push(await save(mainFrame, 1, { format: 'exe', content: 'x' }));
  nextSaveName = null;
  report.exports.push(await save(mainFrame, 1, { format: 'csv' }));
  for (const url of [
    'app://flashline/',
    'app://flashline/assets/..%2f..%2fpackage.json',
    'app://flashline/missing.js',
  ]) {
    const res = await protocolHandler(new Request(url));
    report.protocol.push({ url, status: res.status, csp: res.headers.get('content-security-policy') });
  }
  await new Promise((r) => setTimeout(r, 300));
  process.stdout.write(`REPORT ${JSON.stringify(report)}\n`);
  process.exit(0);
}

class BrowserWindow extends EventEmitter {
  constructor(options) {
    super();
    report.webPreferences = options.webPreferences;
    this.webContents = webContents;
  }
  loadURL(url) {
    report.calls.push(['loadURL', url]);
    setImmediate(scenarios);
    return Promise.resolve();
  }
  show() {}
}

const session = {
  defaultSession: {
    setPermissionRequestHandler: (h) =>
      h(webContents, 'media', (ok) => report.calls.push(['permissionRequest', ok]), {
        requestingUrl: 'app://flashline/',
      }),
    setPermissionCheckHandler: (h) =>
      report.calls.push(['permissionCheck', h(webContents, 'serial', 'app://flashline')]),
    setDevicePermissionHandler: (h) => report.calls.push(['devicePermission', h({})]),
    on: (event) => report.calls.push(['session.on', event]),
    webRequest: { onHeadersReceived: () => report.calls.push(['onHeadersReceived']) },
  },
};

const electron = {
  app: {
    enableSandbox: () => report.calls.push(['enableSandbox']),
    whenReady: () => Promise.resolve(),
    on: () => {},
    quit: () => {},
    exit: (code) => process.exit(code),
  },
  BrowserWindow,
  session,
  ipcMain: {
    on: (channel, handler) => {
      report.calls.push(['ipcMain.on', channel]);
      ipcHandler = handler;
    },
    handle: (channel, handler) => {
      report.calls.push(['ipcMain.handle', channel]);
      invokeHandlers.set(channel, handler);
    },
  },
  dialog: {
    showOpenDialog: () => Promise.resolve({ canceled: true, filePaths: [] }),
    showSaveDialog: (_win, options) => {
      report.dialogs.push(options);
      return Promise.resolve(
        nextSaveName
          ? { canceled: false, filePath: savePath(nextSaveName) }
          : { canceled: true, filePath: '' },
      );
    },
  },
  protocol: {
    registerSchemesAsPrivileged: (schemes) => report.calls.push(['privileged', schemes]),
    handle: (scheme, handler) => {
      report.calls.push(['protocol.handle', scheme]);
      protocolHandler = handler;
    },
  },
};

const load = Module._load;
Module._load = function (request, ...rest) {
  return request === 'electron' ? electron : load.call(this, request, ...rest);
};
