import type { DeviceInfo } from '../../../main/api/types.js';

const CONNECTION_LABELS: Readonly<Record<DeviceInfo['connection'], string>> = {
  usb: 'USB',
  serial: 'Serial',
  tcp: 'TCP',
  virtual: 'Virtual',
};

function Field({ label, value }: { label: string; value: string | number | undefined }) {
  return (
    <div className="field">
      <dt>{label}</dt>
      <dd>{value === undefined || value === '' ? '—' : value}</dd>
    </div>
  );
}

function DeviceCard({ device }: { device: DeviceInfo }) {
  const headingId = `device-${device.id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return (
    <li>
      <article className="device-card" aria-labelledby={headingId} data-testid="device-card">
        <header>
          <h3 id={headingId}>{device.product ?? 'Unknown device'}</h3>
          <span className={`state state-${device.state}`}>{device.state}</span>
        </header>
        <dl>
          <Field label="Serial" value={device.serial} />
          <Field label="Connection" value={`${CONNECTION_LABELS[device.connection]} · ${device.address}`} />
          <Field label="Mode" value={device.mode} />
          <Field label="Slot" value={device.currentSlot} />
          <Field label="Version" value={device.version} />
          <Field label="Rollback index" value={device.rollbackIndex} />
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
