/**
 * What the OTA agent needs of the running device (VirtualDeviceHandle provides it): the device model, its
 * life cycle (up, reboot) — kept as an interface so the agent and the runner do not import each other.
 */
import type { VirtualDevice } from '../device.js';

export interface OtaHost {
  readonly device: VirtualDevice;
  readonly stateDir: string;
  /** Resolves once the device is booted and reachable. */
  whenUp(): Promise<void>;
  /** Reboot into the OS (links drop; the device boots the active slot); resolves when it is back. */
  rebootOs(): Promise<void>;
  on(event: 'up', listener: () => void): unknown;
  on(event: 'down', listener: (why: string) => void): unknown;
  off(event: 'up', listener: () => void): unknown;
  off(event: 'down', listener: (why: string) => void): unknown;
}
