/**
 * Serves the one tRPC router over Electron IPC. Hand-written rather than taken from `trpc-electron` /
 * `electron-trpc`: those register a global ipcMain listener that answers any frame of any window and
 * offer no hook to check the sender, while this shell must accept IPC only from its own top frame
 * (electron/security.ts#isTrustedSender). This file has no Electron import so it is tested in plain Node.
 * Calls go through tRPC's own `callTRPCProcedure` and `getTRPCErrorShape`, so input validation, the
 * error formatter ({code,message,detail}) and subscriptions behave exactly as over the station WebSocket.
 */
import {
  type AnyTRPCRouter,
  callTRPCProcedure,
  getTRPCErrorFromUnknown,
  getTRPCErrorShape,
  type inferRouterContext,
  TRPCError,
} from '@trpc/server';
import type { IpcErrorShape, IpcServerMessage } from '../main/api/ipc-protocol.js';
import { ipcClientMessage } from '../main/api/ipc-schema.js';

/** One renderer frame that talks to us; `key` identifies it (webContents id + frame id). */
export interface IpcPeer {
  readonly key: string;
  send(message: IpcServerMessage): void;
}

export interface IpcDispatcher {
  /** Handle one raw message from a peer already known to be trusted. */
  handle(peer: IpcPeer, raw: unknown): void;
  /** The peer went away (window closed, reloaded): stop its subscriptions. */
  dropPeer(key: string): void;
  /** Number of live subscriptions (tests and diagnostics). */
  readonly activeSubscriptions: number;
  close(): void;
}

const MAX_SUBSCRIPTIONS_PER_PEER = 64;

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

export function createIpcDispatcher<TRouter extends AnyTRPCRouter>(options: {
  router: TRouter;
  createContext: () => inferRouterContext<TRouter>;
}): IpcDispatcher {
  const { router } = options;
  const subscriptions = new Map<string, AbortController>();

  function errorShape(
    cause: unknown,
    type: 'query' | 'mutation' | 'subscription' | 'unknown',
    path: string | undefined,
    input: unknown,
  ): IpcErrorShape {
    const error = getTRPCErrorFromUnknown(cause);
    return getTRPCErrorShape({
      config: router._def._config,
      error,
      type,
      path,
      input,
      ctx: undefined,
    }) as IpcErrorShape;
  }

  async function run(
    peer: IpcPeer,
    id: number,
    type: 'query' | 'mutation' | 'subscription',
    path: string,
    input: unknown,
  ): Promise<void> {
    const subKey = `${peer.key}:${id}`;
    const abort = new AbortController();
    if (type === 'subscription') {
      const open = [...subscriptions.keys()].filter((k) => k.startsWith(`${peer.key}:`)).length;
      if (subscriptions.has(subKey) || open >= MAX_SUBSCRIPTIONS_PER_PEER) {
        peer.send({
          kind: 'error',
          id,
          error: errorShape(
            new Error(`Subscription ${id} refused: duplicate id or too many open subscriptions.`),
            type,
            path,
            input,
          ),
        });
        return;
      }
      subscriptions.set(subKey, abort);
    }
    try {
      const result: unknown = await callTRPCProcedure({
        router,
        path,
        type,
        ctx: options.createContext(),
        getRawInput: async () => input,
        signal: abort.signal,
        batchIndex: 0,
      });
      if (type !== 'subscription') {
        peer.send({ kind: 'result', id, data: result });
        return;
      }
      if (!isAsyncIterable(result)) throw new Error(`Subscription ${path} did not return a stream.`);
      peer.send({ kind: 'started', id });
      for await (const item of result) {
        if (abort.signal.aborted) break;
        peer.send({ kind: 'data', id, data: item });
      }
      if (!abort.signal.aborted) peer.send({ kind: 'stopped', id });
    } catch (err) {
      if (!abort.signal.aborted) peer.send({ kind: 'error', id, error: errorShape(err, type, path, input) });
    } finally {
      if (subscriptions.get(subKey) === abort) subscriptions.delete(subKey);
    }
  }

  return {
    handle(peer, raw) {
      const parsed = ipcClientMessage.safeParse(raw);
      if (!parsed.success) {
        // Without a valid id there is no one to answer; an id we can read still gets the error.
        const id = (raw as { id?: unknown } | null)?.id;
        if (typeof id === 'number' && Number.isInteger(id) && id >= 0) {
          const error = new TRPCError({ code: 'BAD_REQUEST', cause: parsed.error });
          peer.send({ kind: 'error', id, error: errorShape(error, 'unknown', undefined, raw) });
        }
        return;
      }
      const msg = parsed.data;
      if (msg.kind === 'stop') {
        const key = `${peer.key}:${msg.id}`;
        subscriptions.get(key)?.abort();
        subscriptions.delete(key);
        peer.send({ kind: 'stopped', id: msg.id });
        return;
      }
      void run(peer, msg.id, msg.type, msg.path, msg.input);
    },
    dropPeer(key) {
      for (const [subKey, abort] of subscriptions) {
        if (subKey.startsWith(`${key}:`)) {
          abort.abort();
          subscriptions.delete(subKey);
        }
      }
    },
    get activeSubscriptions() {
      return subscriptions.size;
    },
    close() {
      for (const abort of subscriptions.values()) abort.abort();
      subscriptions.clear();
    },
  };
}
