/** A typed tRPC client over the station WebSocket, from Node (the `ws` package stands in for the browser's). */
import { createTRPCClient, createWSClient, type TRPCClient, wsLink } from '@trpc/client';
import WebSocket from 'ws';
import type { AppRouter } from '../../../main/api/router.js';

export interface StationClient {
  readonly client: TRPCClient<AppRouter>;
  close(): Promise<void>;
}

export function connectStation(origin: string, token: string): StationClient {
  const ws = createWSClient({
    url: `${origin.replace(/^http/, 'ws')}/api?token=${encodeURIComponent(token)}`,
    WebSocket: WebSocket as unknown as NonNullable<Parameters<typeof createWSClient>[0]['WebSocket']>,
    retryDelayMs: () => 100,
  });
  return {
    client: createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] }),
    close: () => ws.close(),
  };
}
