/** The connection indicator's states, derived from the link (WebSocket in station mode, IPC in desktop). */
export const CONNECTION_STATES = ['connecting', 'connected', 'reconnecting', 'disconnected'] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

export interface ConnectionStatus {
  readonly state: ConnectionState;
  /** What went wrong, for the indicator's tooltip and the screen reader. */
  readonly detail?: string;
}

/** tRPC's wsClient state: 'pending' means open, 'connecting' covers first connect and retries. */
export interface WsLinkState {
  readonly state: 'idle' | 'connecting' | 'pending';
  readonly error: { readonly message: string } | null;
}

/** Map the link state to the indicator; `everConnected` tells a first connect from a reconnect. */
export function connectionFromWs(link: WsLinkState, everConnected: boolean): ConnectionStatus {
  if (link.state === 'pending') return { state: 'connected' };
  if (link.state === 'idle') return { state: 'disconnected', detail: 'Not connected to the station.' };
  if (everConnected) {
    return { state: 'reconnecting', detail: 'Lost the connection to the station; trying again…' };
  }
  if (link.error) {
    return {
      state: 'disconnected',
      detail: `Cannot reach the station (${link.error.message}). Check that 'flashline station' is running and open the URL it printed.`,
    };
  }
  return { state: 'connecting' };
}
