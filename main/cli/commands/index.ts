/**
 * The registry of sub-commands, in one place. Each entry names a command, summarises it for
 * `flashline --help`, and loads its module only when that command runs: a command's module pulls in its
 * whole stack (engine, package reader, transports), and loading all of them made every invocation —
 * even `--version` — pay for all of them.
 * Add a command with one entry here; its module exports `register<Name>(program)`.
 */
import type { Command } from 'commander';

export type RegisterCommand = (program: Command) => void;

export interface CommandEntry {
  readonly name: string;
  /** One line for the top-level help; the command's own module holds its full description and options. */
  readonly summary: string;
  readonly load: () => Promise<RegisterCommand>;
}

export const commands: readonly CommandEntry[] = [
  {
    name: 'backup',
    summary: 'read a partition of a device in Qualcomm EDL back to a local image (Firehose)',
    load: async () => (await import('./backup.js')).registerBackup,
  },
  {
    name: 'demo',
    summary:
      'start virtual devices and a signed demo package, then the station UI (or flash them with --no-ui)',
    load: async () => (await import('./demo.js')).registerDemo,
  },
  {
    name: 'devices',
    summary: 'list connected devices (USB, serial ports, and TCP endpoints you name) and identify them',
    load: async () => (await import('./devices.js')).registerDevices,
  },
  {
    name: 'flash',
    summary: 'flash a signed package onto one or more devices (exit code = status code)',
    load: async () => (await import('./flash.js')).registerFlash,
  },
  {
    name: 'inspect',
    summary: 'show a package manifest, signers and images (no trust needed; nothing is verified)',
    load: async () => (await import('./inspect.js')).registerInspect,
  },
  {
    name: 'keygen',
    summary: 'create a key pair: NAME.key (private, mode 0600) and NAME.pub',
    load: async () => (await import('./keygen.js')).registerKeygen,
  },
  {
    name: 'line',
    summary:
      'factory line: flash every compatible device that becomes ready, until Ctrl-C, --count or --idle-exit',
    load: async () => (await import('./line.js')).registerLine,
  },
  {
    name: 'modem',
    summary: 'identify a modem on its AT port, or take it into download mode (EDL) with the vendor table',
    load: async () => (await import('./modem.js')).registerModem,
  },
  {
    name: 'pack',
    summary: 'build and sign a package (.flp) from a pack description or from simple flags',
    load: async () => (await import('./pack.js')).registerPack,
  },
  {
    name: 'rescue',
    summary: 'revive a device in Qualcomm EDL from a signed rescue package (exit code = status code)',
    load: async () => (await import('./rescue.js')).registerRescue,
  },
  {
    name: 'report',
    summary: 'job reports: export the local history, list interrupted jobs',
    load: async () => (await import('./report.js')).registerReport,
  },
  {
    name: 'station',
    summary:
      'serve the Flashline UI and API to a browser (headless factory stations); loopback only by default',
    load: async () => (await import('./station.js')).registerStation,
  },
  {
    name: 'verify',
    summary: 'verify a package; exit 0 when valid, else the verify_failed sub-code (20-29)',
    load: async () => (await import('./verify.js')).registerVerify,
  },
  {
    name: 'virtual-device',
    summary: 'run virtual devices that speak fastboot (for tests, demos and training); Ctrl-C stops them',
    load: async () => (await import('./virtual-device.js')).registerVirtualDevice,
  },
];
