/** A fake ADB connection that follows main/protocol/adb/contract.ts, for device tests without a phone. */
import type { AdbConnection, AdbRebootTarget } from '../../../main/protocol/adb/contract.js';

export function fakeAdb(
  props: Record<string, string>,
  state = 'device',
  onReboot?: (target: AdbRebootTarget) => void,
): AdbConnection & { closed: boolean } {
  const conn = {
    description: 'adb fake',
    banner: { state, properties: { 'ro.product.device': 'banner-device' }, features: ['shell_v2'] },
    closed: false,
    shell: async () => ({ exitCode: 0, stdout: '', stderr: '' }),
    getprops: async () => new Map(Object.entries(props)),
    getprop: async (name: string) => props[name] ?? '',
    reboot: async (target: AdbRebootTarget) => onReboot?.(target),
    close: async () => {
      conn.closed = true;
    },
  };
  return conn;
}
