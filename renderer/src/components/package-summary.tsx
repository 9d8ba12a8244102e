import type { DeviceInfo, PackageView } from '../../../main/api/types.js';
import { packageFit } from '../api/compat.js';
import { deviceLabel } from '../api/device-label.js';
import { formatBytes, formatDate } from '../api/format.js';
import { fileName, signerNames } from '../api/package.js';

function Row({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="field">
      <dt>{label}</dt>
      <dd data-testid={testId}>{value}</dd>
    </div>
  );
}

/** The verification result of an opened package, and which connected devices it fits. */
export function PackageSummary({ pkg, devices }: { pkg: PackageView; devices: readonly DeviceInfo[] }) {
  return (
    <section className="panel" aria-labelledby="pkg-summary-heading" data-testid="package-summary">
      <h3 id="pkg-summary-heading">
        <span className="badge badge-ok">Verified</span> {pkg.id} {pkg.version}{' '}
        <span className="muted pkg-file" data-testid="pkg-file">
          {fileName(pkg.path)}
        </span>
      </h3>
      <dl className="summary-grid">
        <Row label="Signed by" value={signerNames(pkg)} testId="pkg-signers" />
        <Row label="Products" value={pkg.products.join(', ')} testId="pkg-products" />
        <Row label="Version" value={pkg.version} testId="pkg-version" />
        <Row label="Rollback index" value={String(pkg.rollbackIndex)} testId="pkg-rollback" />
        <Row label="Expires" value={formatDate(pkg.expires)} testId="pkg-expires" />
        <Row label="Created" value={formatDate(pkg.created)} />
        {pkg.hardwareRevisions ? <Row label="Hardware" value={pkg.hardwareRevisions.join(', ')} /> : null}
        {pkg.minBootloader ? <Row label="Min. bootloader" value={pkg.minBootloader} /> : null}
        <Row label="Encrypted" value={pkg.encrypted ? 'yes' : 'no'} />
      </dl>
      <details className="details" data-testid="pkg-details">
        <summary>Details</summary>
        <dl className="summary-grid">
          <Row label="Signer key ids" value={pkg.signerKeyIds.join(', ')} testId="pkg-key-ids" />
          <Row label="Manifest SHA-256" value={pkg.sha256} />
          <Row label="File" value={pkg.path} />
        </dl>
      </details>
      <table className="images" data-testid="pkg-images">
        <caption>Images</caption>
        <thead>
          <tr>
            <th scope="col">Partition</th>
            <th scope="col" className="num">
              Size
            </th>
            <th scope="col">Slotted</th>
          </tr>
        </thead>
        <tbody>
          {pkg.images.map((i) => (
            <tr key={i.partition}>
              <td>{i.partition}</td>
              <td className="num">{formatBytes(i.size)}</td>
              <td>{i.slotted ? 'A/B' : 'shared'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>Connected devices</h4>
      {devices.length === 0 ? <p className="muted">No devices connected.</p> : null}
      <ul className="fit-list" data-testid="package-fit">
        {devices.map((d) => {
          const fit = packageFit(pkg, d);
          return (
            <li key={d.id} className={fit.fits ? 'fit-yes' : 'fit-no'} data-fits={fit.fits}>
              <strong>{deviceLabel(d).full}</strong> — {fit.fits ? 'fits' : 'does not fit'}: {fit.reason}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
