import { useEffect, useState } from 'react';
import type { DeviceEvent, DeviceInfo } from '../../main/api/types.js';
import type { Api } from './api/client.js';
import { errorMessage } from './api/client.js';
import type { ConnectionStatus } from './api/connection.js';
import { applyDeviceEvents } from './api/device-list.js';
import { frameBatch } from './api/frame-batch.js';

export interface AppInfo {
  readonly product: string;
  readonly version: string;
  readonly mode: 'desktop' | 'station';
  readonly demo: boolean;
}

export function useConnection(api: Api): ConnectionStatus {
  const [status, setStatus] = useState(api.connection());
  useEffect(() => {
    setStatus(api.connection());
    return api.onConnection(setStatus);
  }, [api]);
  return status;
}

export function useAppInfo(api: Api, connection: ConnectionStatus): AppInfo | null {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const connected = connection.state === 'connected';
  useEffect(() => {
    if (!connected) return;
    let live = true;
    api.client.app.info
      .query()
      .then((i) => live && setInfo(i))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [api, connected]);
  return info;
}

export interface DevicesView {
  readonly devices: readonly DeviceInfo[];
  /** False until the first snapshot arrives. */
  readonly loaded: boolean;
  readonly error: string | null;
}

/**
 * Live device list: subscribe to events first, then take a snapshot each time the subscription
 * (re)starts; events that arrive while the snapshot is in flight are replayed over it.
 */
export function useDevices(api: Api): DevicesView {
  const [view, setView] = useState<DevicesView>({ devices: [], loaded: false, error: null });
  useEffect(() => {
    let live = true;
    let pending: DeviceEvent[] | null = null;
    let generation = 0;
    // Many devices change at once (a line of 64 going busy): one render per frame for all of them.
    const batch = frameBatch<DeviceEvent>((events) =>
      setView((v) => ({ ...v, devices: applyDeviceEvents(v.devices, events) })),
    );
    const refresh = () => {
      const mine = ++generation;
      // Events still waiting for a frame are older than the snapshot asked for now, which replaces them.
      batch.cancel();
      pending = [];
      api.client.devices.list
        .query()
        .then((list) => {
          if (!live || mine !== generation) return;
          const replay = pending ?? [];
          pending = null;
          setView({ devices: applyDeviceEvents(list, replay), loaded: true, error: null });
        })
        .catch((err: unknown) => {
          if (!live || mine !== generation) return;
          pending = null;
          setView((v) => ({ ...v, error: errorMessage(err) }));
        });
    };
    const sub = api.client.devices.events.subscribe(undefined, {
      onStarted: refresh,
      onData(event) {
        if (pending) pending.push(event);
        else batch.push(event);
      },
      onError(err) {
        if (live) setView((v) => ({ ...v, error: errorMessage(err) }));
      },
    });
    return () => {
      live = false;
      batch.cancel();
      sub.unsubscribe();
    };
  }, [api]);
  return view;
}
