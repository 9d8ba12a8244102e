import { memo, useState } from 'react';
import type { DeviceInfo, StatusCodeInfo } from '../../../main/api/types.js';
import { type Api, errorMessage } from '../api/client.js';
import { deviceLabel } from '../api/device-label.js';
import {
  authorizationLabel,
  enterDownloadModeOffer,
  MODE_LABELS,
  rebootToFastbootOffer,
} from '../api/device-mode.js';
import { rescueOffer } from '../api/rescue.js';
import { RescueFlow } from './rescue-flow.js';

const CONNECTION_LABELS: Readonly<Record<DeviceInfo['connection'], string>> = {
  usb: 'USB',
  serial: 'Serial',
  tcp: 'TCP',
  virtual: 'Virtual',
};

const STATE_LABELS: Readonly<Record<DeviceInfo['state'], string>> = {
  identifying: 'Identifying',
  ready: 'Ready',
  busy: 'Busy',
  gone: 'Disconnected',
  error: 'Needs attention',
};

function Field({
  label,
  value,
  testId,
}: {
  label: string;
  value: string | number | undefined;
  testId?: string;
}) {
  return (
    <div className="field">
      <dt>{label}</dt>
      <dd data-testid={testId}>{value === undefined || value === '' ? '—' : value}</dd>
    </div>
  );
}

/** One device action sent through `devices.reboot`: reboot to fastboot (Android) or download mode (modem). */
function RebootAction({
  api,
  device,
  target,
}: {
  api: Api;
  device: DeviceInfo;
  target: 'bootloader' | 'edl';
}) {
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const offer = target === 'edl' ? enterDownloadModeOffer(device) : rebootToFastbootOffer(device);
  if (!offer.shown) return null;
  const reboot = () => {
    setSending(true);
    setError(null);
    api.client.devices.reboot
      .mutate({ id: device.id, target })
      .catch((err: unknown) => setError(errorMessage(err)))
      .finally(() => setSending(false));
  };
  const words =
    target === 'edl' ? ['Switching…', 'Enter download mode'] : ['Rebooting…', 'Reboot to fastboot'];
  return (
    <div className="actions device-actions">
      <button
        type="button"
        onClick={reboot}
        disabled={!offer.enabled || sending}
        title={offer.why}
        data-testid={target === 'edl' ? 'enter-download-mode' : 'reboot-fastboot'}
      >
        {sending ? words[0] : words[1]}
      </button>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** "Rescue…" on a device in EDL: opens the rescue flow (rescue-flow.tsx) above the list. */
function RescueAction({ device, onRescue }: { device: DeviceInfo; onRescue: (d: DeviceInfo) => void }) {
  const offer = rescueOffer(device);
  if (!offer.shown) return null;
  return (
    <div className="actions device-actions">
      <button
        type="button"
        onClick={() => onRescue(device)}
        disabled={!offer.enabled}
        title={offer.why}
        data-testid="rescue-device"
      >
        Rescue…
      </button>
    </div>
  );
}

const DeviceCard = memo(function DeviceCard({
  api,
  device,
  onRescue,
}: {
  api: Api;
  device: DeviceInfo;
  onRescue: (d: DeviceInfo) => void;
}) {
  const label = deviceLabel(device);
  const headingId = `device-${device.id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return (
    <li>
      <article
        className="device-card"
        aria-labelledby={headingId}
        data-testid="device-card"
        data-device={device.id}
        data-serial={device.serial}
        data-mode={device.mode}
        data-state={device.state}
      >
        <header>
          <h3 id={headingId}>
            {label.name} <span className="device-serial">{label.serial}</span>
          </h3>
          <span className={`state state-${device.state}`}>{STATE_LABELS[device.state]}</span>
        </header>
        <dl>
          <Field label="Product" value={device.product} />
          <Field label="Connection" value={CONNECTION_LABELS[device.connection]} />
          <Field label="Port" value={device.address} />
          <Field label="Mode" value={MODE_LABELS[device.mode]} testId="device-mode" />
          {device.authorization ? (
            <Field label="USB debugging" value={authorizationLabel(device)} testId="device-authorization" />
          ) : null}
          <Field label="Slot" value={device.currentSlot} testId="device-slot" />
          <Field label="Version" value={device.version} testId="device-version" />
          <Field label="Rollback index" value={device.rollbackIndex} testId="device-rollback" />
          {device.imei ? <Field label="IMEI" value={device.imei} testId="device-imei" /> : null}
          {device.msmHwId ? <Field label="MSM HW id" value={device.msmHwId} testId="device-msm" /> : null}
          {device.oemPkHash ? (
            <Field
              label="OEM PK hash"
              value={`${device.oemPkHash.slice(0, 16)}…`}
              testId="device-oem-pk-hash"
            />
          ) : null}
        </dl>
        {device.note ? (
          <p
            className={device.authorization === 'unauthorized' ? 'note note-remedy' : 'note'}
            data-testid="device-note"
          >
            {device.note}
          </p>
        ) : null}
        {device.sameAs ? (
          <p className="note" data-testid="device-same-as">
            Another way into this unit, which is now reached through {device.sameAs}.
          </p>
        ) : null}
        <RebootAction api={api} device={device} target="bootloader" />
        <RebootAction api={api} device={device} target="edl" />
        <RescueAction device={device} onRescue={onRescue} />
      </article>
    </li>
  );
});

/**
 * Memoised, as are its cards: the list sits under the app, which renders again on every batch of job
 * progress; the cards change only when their device does.
 */
export const DeviceList = memo(function DeviceList({
  api,
  devices,
  codes,
}: {
  api: Api;
  devices: readonly DeviceInfo[];
  codes: ReadonlyMap<number, StatusCodeInfo>;
}) {
  // The device as it was when the technician chose "Rescue…": its card changes (busy, gone) meanwhile.
  const [rescuing, setRescuing] = useState<DeviceInfo | null>(null);
  return (
    <>
      {rescuing ? (
        <RescueFlow api={api} device={rescuing} codes={codes} onClose={() => setRescuing(null)} />
      ) : null}
      <ul className="device-list" aria-label="Connected devices">
        {devices.map((d) => (
          <DeviceCard key={d.id} api={api} device={d} onRescue={setRescuing} />
        ))}
      </ul>
    </>
  );
});
