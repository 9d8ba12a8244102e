/**
 * The live device list: discovery sources (USB hotplug, serial, TCP endpoints, virtual devices) report
 * into it; the API reads it and forwards its events.
 */
import { EventEmitter, on } from 'node:events';
import type { DeviceEvent, DeviceInfo } from './device-info.js';

export class DeviceRegistry {
  readonly #devices = new Map<string, DeviceInfo>();
  readonly #events = new EventEmitter();

  list(): DeviceInfo[] {
    return [...this.#devices.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  get(id: string): DeviceInfo | undefined {
    return this.#devices.get(id);
  }

  /** Add a device or replace what is known about it; emits added/changed only when something differs. */
  upsert(device: DeviceInfo): void {
    const before = this.#devices.get(device.id);
    this.#devices.set(device.id, device);
    if (!before) this.#emit({ type: 'added', device });
    else if (JSON.stringify(before) !== JSON.stringify(device)) this.#emit({ type: 'changed', device });
  }

  /** Change some fields of a known device (e.g. the flash engine marking it busy); no-op for unknown ids. */
  update(id: string, changes: Partial<Omit<DeviceInfo, 'id'>>): DeviceInfo | undefined {
    const before = this.#devices.get(id);
    if (!before) return undefined;
    const after = { ...before, ...changes, id };
    this.upsert(after);
    return after;
  }

  remove(id: string): void {
    if (this.#devices.delete(id)) this.#emit({ type: 'removed', id });
  }

  /** Subscribe to events; returns an unsubscribe function. */
  subscribe(listener: (event: DeviceEvent) => void): () => void {
    this.#events.on('event', listener);
    return () => this.#events.off('event', listener);
  }

  /** Events as an async iterable that ends when `signal` aborts. */
  async *events(signal?: AbortSignal): AsyncGenerator<DeviceEvent> {
    try {
      for await (const [event] of on(this.#events, 'event', { signal })) yield event as DeviceEvent;
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
  }

  #emit(event: DeviceEvent): void {
    this.#events.emit('event', event);
  }
}
