import type { Api } from '../api/client.js';
import { useAppInfo, useConnection, useDevices } from '../use-api.js';
import { DeviceList } from './device-list.js';
import { EmptyState } from './empty-state.js';
import { Header } from './header.js';

export function App({ api }: { readonly api: Api }) {
  const connection = useConnection(api);
  const info = useAppInfo(api, connection);
  const devices = useDevices(api);
  return (
    <>
      <a className="skip-link" href="#devices-heading">
        Skip to devices
      </a>
      <Header info={info} connection={connection} />
      <main className="content" aria-busy={!devices.loaded}>
        <div className="section-head">
          <h2 id="devices-heading" tabIndex={-1}>
            Devices
          </h2>
          <output className="device-count" aria-live="polite" data-testid="device-count">
            {devices.loaded ? `${devices.devices.length} connected` : 'Loading…'}
          </output>
        </div>
        {devices.error ? (
          <p className="error" role="alert">
            {devices.error}
          </p>
        ) : null}
        {devices.loaded && devices.devices.length === 0 ? <EmptyState demo={info?.demo ?? false} /> : null}
        {devices.devices.length > 0 ? <DeviceList devices={devices.devices} /> : null}
      </main>
    </>
  );
}
