/** Wait until the registry's entry `id` satisfies `ok` (checked now and on every registry event). */
import type { DeviceInfo, DeviceRegistry } from '../../../main/devices/index.js';

export function until(
  registry: DeviceRegistry,
  id: string,
  ok: (d: DeviceInfo) => boolean,
): Promise<DeviceInfo> {
  return new Promise((resolve) => {
    const check = () => {
      const d = registry.get(id);
      if (d && ok(d)) {
        stop();
        resolve(d);
      }
    };
    const stop = registry.subscribe(check);
    check();
  });
}
