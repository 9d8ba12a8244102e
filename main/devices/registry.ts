/**
 * The live device list and the one owner of each device's life cycle (device-info.ts): discovery sources
 * report what they see (identifying, ready, gone, error) into it, the flash service marks devices busy and
 * releases them after a job (they are then re-identified), and the API reads it and forwards its events.
 * A device that *becomes* ready produces exactly one `ready` event, after its added/changed event.
 */
import { EventEmitter, on } from 'node:events';
import type { DeviceEvent, DeviceInfo } from './device-info.js';
import { IDENTIFY_TIMEOUT_MS, type Probe } from './source.js';

export class DeviceRegistry {
  readonly #devices = new Map<string, DeviceInfo>();
  readonly #probes = new Map<string, Probe>();
  readonly #refreshing = new Map<string, Promise<DeviceInfo | undefined>>();
  /** Ids a job owns, kept across unplug/replug (a phone re-enumerates when its job reboots it). */
  readonly #busy = new Set<string>();
  readonly #events = new EventEmitter();

  constructor() {
    this.#events.setMaxListeners(0);
  }

  list(): DeviceInfo[] {
    return [...this.#devices.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  get(id: string): DeviceInfo | undefined {
    return this.#devices.get(id);
  }

  /**
   * What a source saw. `probe`, when given, re-identifies the device on demand (refresh). While a job owns
   * the device (busy) its state stays busy: the source's view is kept for when the job ends.
   */
  upsert(device: DeviceInfo, probe?: Probe): void {
    if (probe) this.#probes.set(device.id, probe);
    this.#store(this.#busy.has(device.id) ? { ...device, state: 'busy' } : device);
  }

  /** Change some fields of a known device; no-op for unknown ids. */
  update(id: string, changes: Partial<Omit<DeviceInfo, 'id'>>): DeviceInfo | undefined {
    const before = this.#devices.get(id);
    if (!before) return undefined;
    return this.#store({ ...before, ...changes, id });
  }

  /** A job took the device. */
  markBusy(id: string): void {
    this.#busy.add(id);
    this.update(id, { state: 'busy' });
  }

  /** The job on the device ended: read what the device now reports (version, slot, rollback index). */
  release(id: string): Promise<DeviceInfo | undefined> {
    this.#busy.delete(id);
    const d = this.#devices.get(id);
    if (d?.state !== 'busy') return Promise.resolve(d);
    // Without a probe (a device added by hand) nothing more can be learned: it is simply free again.
    if (!this.#probes.has(id)) return Promise.resolve(this.#store({ ...d, state: 'ready' }));
    this.#store({ ...d, state: 'identifying' });
    return this.refresh(id);
  }

  /**
   * Re-identify a device now (after a job, or when a user asks). A busy device is left alone: its job owns
   * the link. Devices without a probe (classified, not identified) are returned as they are.
   */
  refresh(id: string, timeoutMs = IDENTIFY_TIMEOUT_MS): Promise<DeviceInfo | undefined> {
    const running = this.#refreshing.get(id);
    if (running) return running;
    const d = this.#devices.get(id);
    const probe = this.#probes.get(id);
    if (!d || !probe || d.state === 'busy') return Promise.resolve(d);
    if (d.state !== 'identifying') this.#store({ ...d, state: 'identifying' });
    const p = probe(AbortSignal.timeout(timeoutMs))
      .then((info) => (this.#devices.has(id) ? this.upsert(info) : undefined))
      .catch((err: unknown) => {
        if (this.#devices.has(id))
          this.update(id, { state: 'error', note: err instanceof Error ? err.message : String(err) });
      })
      .then(() => this.#devices.get(id))
      .finally(() => this.#refreshing.delete(id));
    this.#refreshing.set(id, p);
    return p;
  }

  remove(id: string): void {
    this.#probes.delete(id);
    if (!this.#devices.delete(id)) return;
    this.#emit({ type: 'removed', id });
    this.#promoteAliasesOf(id);
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

  #store(reported: DeviceInfo): DeviceInfo {
    const device = this.#withSameAs(checkReady(reported));
    const before = this.#devices.get(device.id);
    this.#devices.set(device.id, device);
    if (!before) this.#emit({ type: 'added', device });
    else if (JSON.stringify(before) !== JSON.stringify(device)) this.#emit({ type: 'changed', device });
    if (isReadyPrimary(device) && !(before && isReadyPrimary(before))) this.#emit({ type: 'ready', device });
    if (before && isPrimary(before) && !isPrimary(device)) this.#promoteAliasesOf(device.id);
    return device;
  }

  /** Endpoints that report the same serial are one device: the later ones point at the first. */
  #withSameAs(d: DeviceInfo): DeviceInfo {
    const { sameAs: _old, ...rest } = d;
    if (!d.serial || d.mode !== 'fastboot' || (d.state !== 'ready' && d.state !== 'identifying')) return rest;
    for (const other of this.#devices.values()) {
      if (other.id !== d.id && other.serial === d.serial && isPrimary(other) && other.mode === 'fastboot')
        return { ...rest, sameAs: other.id };
    }
    return rest;
  }

  /** The endpoint others pointed at left or stopped answering: the next one becomes the device. */
  #promoteAliasesOf(id: string): void {
    for (const alias of [...this.#devices.values()].filter((d) => d.sameAs === id)) this.#store(alias);
  }

  #emit(event: DeviceEvent): void {
    this.#events.emit('event', event);
  }
}

/** A fastboot device is ready only once identification gave its product and serial. */
function checkReady(d: DeviceInfo): DeviceInfo {
  if (d.state !== 'ready' || d.mode !== 'fastboot' || (d.product && d.serial)) return d;
  const missing = [!d.product && 'product', !d.serial && 'serial number'].filter(Boolean).join(' and ');
  return { ...d, state: 'error', note: `the device did not report its ${missing}` };
}

function isPrimary(d: DeviceInfo): boolean {
  return (d.state === 'ready' || d.state === 'busy') && d.sameAs === undefined;
}

function isReadyPrimary(d: DeviceInfo): boolean {
  return d.state === 'ready' && d.sameAs === undefined;
}
