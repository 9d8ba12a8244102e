import type { ConnectionStatus } from '../api/connection.js';
import type { AppInfo } from '../use-api.js';

const LABELS: Readonly<Record<ConnectionStatus['state'], string>> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  disconnected: 'Disconnected',
};

export function Header({ info, connection }: { info: AppInfo | null; connection: ConnectionStatus }) {
  return (
    <header className="app-header">
      <div className="brand">
        <h1>{info?.product ?? 'Flashline'}</h1>
        <span className="version" data-testid="app-version">
          {info ? `v${info.version}` : ''}
        </span>
        {info ? <span className="mode">{info.mode === 'desktop' ? 'Desktop' : 'Station'}</span> : null}
      </div>
      <output
        className={`connection connection-${connection.state}`}
        data-testid="connection"
        data-state={connection.state}
        aria-live="polite"
        title={connection.detail ?? LABELS[connection.state]}
      >
        <span className="dot" aria-hidden="true" />
        {LABELS[connection.state]}
        {connection.detail && connection.state !== 'connected' ? (
          <span className="visually-hidden">: {connection.detail}</span>
        ) : null}
      </output>
    </header>
  );
}
