import { useEffect, useState } from 'react';
import type { PackageView } from '../../../main/api/types.js';
import type { Api } from '../api/client.js';
import { useAppInfo, useConnection, useDevices } from '../use-api.js';
import { useJobs, useStatusCodes } from '../use-jobs.js';
import { CatalogScreen } from './catalog-screen.js';
import { DeviceList } from './device-list.js';
import { EmptyState } from './empty-state.js';
import { FactoryScreen } from './factory-screen.js';
import { FlashScreen } from './flash-screen.js';
import { FleetScreen } from './fleet-screen.js';
import { Header } from './header.js';
import { HistoryScreen } from './history-screen.js';
import { InterruptedBanner } from './interrupted-banner.js';
import { PackageScreen } from './package-screen.js';

const SCREENS = ['devices', 'package', 'flash', 'factory', 'history', 'catalog', 'fleet'] as const;
type Screen = (typeof SCREENS)[number];
const TITLES: Readonly<Record<Screen, string>> = {
  devices: 'Devices',
  package: 'Package',
  flash: 'Flash',
  factory: 'Factory',
  history: 'History',
  catalog: 'Catalog',
  fleet: 'Fleet',
};

export function App({ api }: { readonly api: Api }) {
  const connection = useConnection(api);
  const info = useAppInfo(api, connection);
  const devices = useDevices(api);
  const jobs = useJobs(api);
  const codes = useStatusCodes(api);
  const [screen, setScreen] = useState<Screen>('devices');
  const [pkg, setPkg] = useState<PackageView | null>(null);
  const [autoFlash, setAutoFlash] = useState<string | null>(null);
  const connected = connection.state === 'connected';
  // Another page (or an earlier visit) may have switched auto-flash on: take the station's word for it.
  useEffect(() => {
    if (!connected) return;
    let live = true;
    api.client.jobs.autoFlashState
      .query()
      .then((s) => live && setAutoFlash(s.enabled ? s.packagePath : null))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [api, connected]);
  const go = (s: Screen) => {
    setScreen(s);
    // Move focus to the new screen's heading so keyboard and screen-reader users land on it.
    requestAnimationFrame(() => document.getElementById(`${s}-heading`)?.focus());
  };
  return (
    <>
      <a className="skip-link" href={`#${screen}-heading`}>
        Skip to {TITLES[screen].toLowerCase()}
      </a>
      <Header info={info} connection={connection} />
      <nav className="tabs" aria-label="Screens">
        {SCREENS.map((s) => (
          <button
            key={s}
            type="button"
            className="tab"
            aria-current={screen === s ? 'page' : undefined}
            onClick={() => go(s)}
            data-testid={`nav-${s}`}
          >
            {TITLES[s]}
          </button>
        ))}
      </nav>
      <main className="content" aria-busy={!devices.loaded}>
        <InterruptedBanner
          api={api}
          connected={connected}
          refreshKey={jobs.ended}
          devices={devices.devices}
        />
        {screen === 'devices' ? (
          <>
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
            {devices.loaded && devices.devices.length === 0 ? (
              <EmptyState demo={info?.demo ?? false} />
            ) : null}
            {devices.devices.length > 0 ? (
              <DeviceList api={api} devices={devices.devices} codes={codes} />
            ) : null}
          </>
        ) : null}
        {screen === 'package' ? (
          <PackageScreen
            api={api}
            pkg={pkg}
            onPackage={setPkg}
            devices={devices.devices}
            codes={codes}
            onContinue={() => go('flash')}
          />
        ) : null}
        {screen === 'flash' ? (
          <FlashScreen
            api={api}
            pkg={pkg}
            devices={devices.devices}
            jobs={jobs.jobs}
            codes={codes}
            onOpenPackage={() => go('package')}
          />
        ) : null}
        {screen === 'factory' ? (
          <FactoryScreen
            api={api}
            pkg={pkg}
            devices={devices.devices}
            jobs={jobs.jobs}
            firstStartMs={jobs.firstStartMs}
            autoFlash={autoFlash}
            onAutoFlash={setAutoFlash}
          />
        ) : null}
        {screen === 'history' ? <HistoryScreen api={api} refreshKey={jobs.ended} codes={codes} /> : null}
        {screen === 'catalog' ? <CatalogScreen api={api} codes={codes} /> : null}
        {screen === 'fleet' ? <FleetScreen api={api} codes={codes} /> : null}
      </main>
    </>
  );
}
