/**
 * Real USB end to end (issue 8): boots a Debian kernel in qemu with dummy_hcd + libcomposite + FunctionFS,
 * runs the virtual device as a USB gadget and drives it over the kernel's real USB host stack with Google's
 * fastboot and with Flashline's own USB transport; then as a stock Android phone (ADB interface in Android,
 * fastboot after `reboot bootloader`) driven by Flashline's ADB client and Debian's adb; then as a bricked
 * Qualcomm device in EDL (05c6:9008) rescued by Debian's qdl and by Flashline. One VM boot serves every assertion below; the VM program
 * (test/usb/vm/main.ts) reports one JSON result per step on the serial console.
 *
 * Run with `npm run test:usb` (not part of `npm test`: it fetches Debian packages on first use and takes
 * minutes under pure emulation). See docs/usb-testing.md.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { RESCUE_STAGES } from '../../main/flash/rescue/contract.js';
import {
  type HarnessResult,
  runInVm,
  USB_VM_PROGRAMS,
  usbVmHostBinaries,
} from '../../scripts/usb-vm/harness.js';

interface StepResult {
  step: string;
  ok: boolean;
  error?: string;
  [key: string]: unknown;
}

function isStep(v: unknown): v is StepResult {
  return typeof v === 'object' && v !== null && typeof (v as StepResult).step === 'string';
}

describe('USB end to end in qemu (dummy_hcd + FunctionFS)', { timeout: 25 * 60_000 }, () => {
  let vm: HarnessResult;
  const steps = new Map<string, StepResult>();
  const stepOf = (name: string): StepResult => {
    const s = steps.get(name);
    assert.ok(s, `the VM program reported no '${name}' step; console:\n${vm.lines.slice(-40).join('\n')}`);
    return s;
  };
  const passed = (name: string): StepResult => {
    const s = stepOf(name);
    assert.equal(s.ok, true, `step '${name}' failed in the VM: ${s.error ?? JSON.stringify(s)}`);
    return s;
  };

  before(async () => {
    const verbose = process.env.FLASHLINE_USB_VERBOSE === '1';
    vm = await runInVm({
      programs: USB_VM_PROGRAMS,
      command: 'node /app/vm-main.mjs',
      hostBinaries: usbVmHostBinaries(),
      timeoutMs: 20 * 60_000,
      ...(verbose ? { onLine: (l: string) => process.stdout.write(`vm| ${l}\n`) } : {}),
    });
    for (const r of vm.results) if (isStep(r)) steps.set(r.step, r);
    const mb = (name: string) => steps.get(name)?.mbPerS ?? 'n/a';
    process.stdout.write(
      `usb-vm: accel=${vm.accel} build=${vm.buildMs} ms boot=${vm.bootMs} ms total=${vm.totalMs} ms ` +
        `initrd=${(vm.initrdBytes / 1e6).toFixed(1)} MB; throughput inside the VM: ` +
        `google fastboot ${mb('google-flash')} MB/s, flashline ${mb('flashline-flash')} MB/s ` +
        `(1 MiB transfers; 256 KiB ${mb('flashline-flash-256k')}, 16 KiB ${mb('flashline-flash-16k')}), ` +
        `engine download ${steps.get('engine-flash')?.downloadMbPerS ?? 'n/a'} MB/s; ADB over USB: ` +
        `connect ${steps.get('flashline-adb')?.connectMs ?? 'n/a'} ms, ` +
        `re-enumeration into fastboot ${steps.get('adb-reboot-bootloader')?.reenumerateMs ?? 'n/a'} ms; EDL rescue ` +
        `(14.2 MiB): qdl ${mb('qdl-rescue')} MB/s, flashline ${mb('flashline-rescue')} MB/s ` +
        `(program phase ${steps.get('flashline-rescue')?.programMbPerS ?? 'n/a'}), backup ${mb('flashline-backup')} MB/s\n`,
    );
  });

  it('boots, runs node inside the VM and powers itself off', () => {
    assert.equal(vm.timedOut, false, 'the VM had to be killed');
    const node = stepOf('node');
    assert.equal((node.versions as Record<string, string>).node, process.versions.node);
    assert.ok(vm.rc !== undefined, 'the VM program never printed its end marker');
  });

  it('binds the FunctionFS fastboot gadget to dummy_udc.0', () => {
    assert.equal(passed('gadget').udc, 'dummy_udc.0');
  });

  it('shows the gadget in sysfs and under /dev/bus/usb (devtmpfs, no udev)', () => {
    const s = passed('sysfs');
    assert.equal(s.serial, 'FLUSB0001');
    assert.match(String(s.node), /^\/dev\/bus\/usb\/\d{3}\/\d{3}$/);
    assert.equal(s.speed, '480');
  });

  it('is found by the usb package WebUSB API with the fastboot interface', () => {
    const s = passed('webusb');
    assert.deepEqual(s.interfaceClass, [0xff, 0x42, 0x03]);
    assert.deepEqual(s.endpoints, ['out:bulk:512', 'in:bulk:512']);
  });

  it("is listed and flashed by Google's fastboot over real USB", () => {
    assert.match(String(passed('google-devices').output), /FLUSB0001\s+fastboot/);
    assert.ok(Number(passed('google-getvar-all').variables) >= 5);
    assert.ok(Number(passed('google-flash').mbPerS) > 0);
  });

  it("flashes with Flashline's USB transport and fastboot client at its default settings (no shim)", () => {
    const s = passed('flashline-flash');
    assert.equal(s.product, 'flashline-virtual');
    assert.ok(Number(s.mbPerS) > 0);
  });

  it("flashes with Flashline's USB transport with 256 KiB and AOSP's 16 KiB OUT transfers", () => {
    assert.ok(Number(passed('flashline-flash-256k').mbPerS) > 0);
    assert.ok(Number(passed('flashline-flash-16k').mbPerS) > 0);
  });

  it('turns an unbind mid-download into an error (no hang) and flashes again after re-binding', () => {
    const pull = passed('cable-pull');
    assert.ok(String(pull.error).length > 0);
    passed('replug-flash');
  });

  it('reports an unbind mid-download as a typed DisconnectedError', () => {
    assert.match(String(passed('cable-pull').error), /^DisconnectedError: /);
  });

  it('flashes a signed package with the engine over USB, preflight to postcheck (reboot included)', () => {
    const s = passed('engine-flash');
    assert.equal(s.status, 0);
    assert.equal(s.versionAfter, '2.0.0');
  });

  it('resumes the engine job after a cable pull mid-download (transport as shipped)', () => {
    const s = passed('engine-cable-pull');
    assert.ok(Number(s.resumes) >= 1);
  });

  it("resumes the engine job after a cable pull mid-download (udev's disconnect event standing in)", () => {
    const s = passed('engine-cable-pull-hotplug');
    assert.equal(s.status, 0);
    assert.equal(s.versionAfter, '4.0.0');
    assert.ok(Number(s.resumes) >= 1);
  });

  it('presents a stock Android phone: the ADB interface ff/42/01 with two bulk endpoints', () => {
    passed('phone-gadget');
    const s = passed('webusb-adb');
    assert.equal(s.serial, 'FLUSB0002');
    assert.deepEqual(s.interfaceClass, [0xff, 0x42, 0x01]);
    assert.deepEqual(s.endpoints, ['out:bulk:512', 'in:bulk:512']);
  });

  it("speaks ADB over real USB with Flashline's client: banner, getprop, shell exit status", () => {
    const s = passed('flashline-adb');
    assert.equal(s.state, 'device');
    assert.equal(s.serialno, 'FLUSB0002');
    assert.equal(s.exitCode, 3);
    assert.match(String(s.slotSuffix), /^_[ab]$/);
    assert.ok((s.features as string[]).includes('shell_v2'));
    assert.equal(s.usbfsFilesAfterClose, 0, 'close() left the device open (the interface stays claimed)');
  });

  it("is listed and served to Debian's adb over real USB (when the host has adb)", (t) => {
    if (!existsSync('/usr/bin/adb')) return t.skip('no /usr/bin/adb on this host');
    const s = passed('debian-adb');
    assert.equal(s.serialno, 'FLUSB0002');
    assert.equal(s.exitCode, 3);
  });

  it('re-enumerates as fastboot with the same serial after adb reboot bootloader', () => {
    const s = passed('adb-reboot-bootloader');
    assert.equal(s.serialno, 'FLUSB0002');
    assert.match(String(s.googleCurrentSlot), /^_?[ab]$/);
  });

  it('returns to Android (ADB, boot completed) after fastboot reboot', () => {
    const s = passed('fastboot-reboot-android');
    assert.equal(s.serialno, 'FLUSB0002');
    assert.equal(s.bootCompleted, '1');
  });

  it('presents a bricked Qualcomm device: 05c6:9008, interface ff/ff/ff, classified as edl', () => {
    assert.equal(passed('edl-gadget').sectorSize, 4096);
    const s = passed('webusb-edl');
    assert.equal(s.vendorId, 0x05c6);
    assert.equal(s.productId, 0x9008);
    assert.equal(s.mode, 'edl');
    assert.deepEqual(s.interfaceClass, [0xff, 0xff, 0xff]);
    assert.deepEqual(s.endpoints, ['out:bulk:512', 'in:bulk:512']);
    // flashline devices: the id flashline backup|rescue --device takes.
    const listed = passed('devices-edl');
    assert.equal(listed.id, 'usb:FLEDL0001');
    assert.equal(listed.address, '05c6:9008');
  });

  it("is rescued by Debian's qdl over real USB; the device's own SHA-256 confirms every range", () => {
    const s = passed('qdl-rescue');
    assert.deepEqual(
      (s.qdlRates as { label: string }[]).map((r) => r.label),
      ['xbl', 'boot', 'system', 'userdata'],
    );
    assert.deepEqual((s.deviceHistory as string[]).slice(0, 2), [
      'sahara: programmer-loaded',
      'firehose: reset',
    ]);
    assert.ok(Number(s.zlps) > 0, 'qdl sends a ZLP after each write of whole packets');
    assert.deepEqual(passed('qdl-device-hash').checked, ['xbl', 'boot', 'system', 'userdata']);
  });

  it("is rescued by Flashline's USB EDL transport (Sahara, Firehose program + patch + reset), hashes checked", () => {
    const s = passed('flashline-rescue');
    assert.deepEqual(s.checked, ['xbl', 'boot', 'system', 'userdata']);
    assert.deepEqual((s.deviceHistory as string[]).slice(0, 2), [
      'sahara: programmer-loaded',
      'firehose: reset',
    ]);
  });

  it('reads a partition back byte-identical with flashline backup --device usb:SERIAL', () => {
    assert.equal(passed('flashline-backup').bytes, 8 * 1024 * 1024);
  });

  it('turns a cable pull mid-program into a typed DisconnectedError; replugged, the device is back in its ROM', () => {
    const s = passed('edl-cable-pull');
    assert.match(String(s.error), /^DisconnectedError: /);
    assert.equal(typeof s.identityAfter, 'number');
  });

  it('is rescued from a signed rescue package with flashline rescue --device usb:…, comes back in fastboot and flashes to 0', () => {
    const s = passed('flashline-rescue-package');
    assert.equal(s.status, 0);
    assert.match(String(s.cameBackAs), /^usb:[0-9a-f]{8}$/);
    // Every stage but the optional backup, in the contract's order.
    assert.deepEqual(
      s.stages,
      RESCUE_STAGES.filter((stage) => stage !== 'backup'),
    );
  });

  it('ends with every step reported', () => {
    assert.ok(steps.has('summary'), 'the VM program did not reach its summary');
  });
});
