import type { DeviceInfo } from '../../../main/api/types.js';
import { deviceLabel } from '../api/device-label.js';

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

function DeviceCard({ device }: { device: DeviceInfo }) {
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
          <Field label="Mode" value={device.mode} />
          <Field label="Slot" value={device.currentSlot} testId="device-slot" />
          <Field label="Version" value={device.version} testId="device-version" />
          <Field label="Rollback index" value={device.rollbackIndex} testId="device-rollback" />
        </dl>
        {device.note ? <p className="note">{device.note}</p> : null}
      </article>
    </li>
  );
}

export function DeviceList({ devices }: { devices: readonly DeviceInfo[] }) {
  return (
    <ul className="device-list" aria-label="Connected devices">
      {devices.map((d) => (
        <DeviceCard key={d.id} device={d} />
      ))}
    </ul>
  );
}
