export function EmptyState({ demo }: { demo: boolean }) {
  return (
    <section className="empty-state" aria-labelledby="empty-heading" data-testid="empty-state">
      <h3 id="empty-heading">No devices connected</h3>
      {demo ? <p>Demo devices are starting; they appear here in a moment.</p> : null}
      <ol>
        <li>Connect the device to this computer with a USB data cable (not a charge-only cable).</li>
        <li>
          Put it in fastboot mode: power it off, then hold <kbd>Volume Down</kbd> + <kbd>Power</kbd> until the
          fastboot screen shows (key combinations differ by model).
        </li>
        <li>
          On Linux, allow access once:{' '}
          <code>sudo cp resources/udev/51-flashline.rules /etc/udev/rules.d/</code> then{' '}
          <code>sudo udevadm control --reload-rules &amp;&amp; sudo udevadm trigger</code>, and reconnect the
          cable. On Windows, the device needs the WinUSB driver.
        </li>
      </ol>
      <p>
        No device at hand? Start the demo with <code>npm run demo</code>, or a virtual device with{' '}
        <code>flashline virtual-device</code>.
      </p>
    </section>
  );
}
