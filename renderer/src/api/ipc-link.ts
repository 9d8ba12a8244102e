/**
 * A tRPC link over the Electron preload bridge (desktop mode). It speaks the message shapes of
 * main/api/ipc-protocol.ts to electron/ipc-dispatcher.ts, which runs the same router as the station.
 * Hand-written for the reason given in electron/ipc-dispatcher.ts.
 */
import { TRPCClientError, type TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';
import type { IpcBridge, IpcServerMessage } from '../../../main/api/ipc-protocol.js';
import type { AppRouter } from '../../../main/api/router.js';

type Listener = (message: IpcServerMessage) => void;

export function ipcLink(bridge: IpcBridge): TRPCLink<AppRouter> {
  const listeners = new Map<number, Listener>();
  let nextId = 1;
  bridge.onApiMessage((message) => listeners.get(message.id)?.(message));

  return () =>
    ({ op }) =>
      observable((observer) => {
        const id = nextId++;
        let done = false;
        const finish = () => {
          done = true;
          listeners.delete(id);
        };
        listeners.set(id, (message) => {
          switch (message.kind) {
            case 'result':
              observer.next({ result: { type: 'data', data: message.data } });
              finish();
              observer.complete();
              break;
            case 'started':
              observer.next({ result: { type: 'started' } });
              break;
            case 'data':
              observer.next({ result: { type: 'data', data: message.data } });
              break;
            case 'stopped':
              finish();
              observer.complete();
              break;
            case 'error':
              finish();
              observer.error(TRPCClientError.from({ error: message.error }));
              break;
          }
        });
        bridge.sendApiMessage({ kind: 'request', id, type: op.type, path: op.path, input: op.input });
        return () => {
          if (done) return;
          finish();
          if (op.type === 'subscription') bridge.sendApiMessage({ kind: 'stop', id });
        };
      });
}
