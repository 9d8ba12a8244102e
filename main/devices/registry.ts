/**
 * The live device list and the one owner of each device's life cycle (device-info.ts): discovery sources
 * report what they see (identifying, ready, gone, error) into it, the flash service marks devices busy and
 * releases them after a job (they are then re-identified), and the API reads it and forwards its events.
 *
 * Endpoints that report the same serial are one unit (units.ts): one of them leads, the others carry
 * `sameAs` = the leader. A unit gets exactly one `ready` event each time an endpoint becomes its answering
 * leader (after that endpoint's added/changed event); a job owns all of the unit's endpoints at once.
 */
import { EventStream } from '../common/event-stream.js';
import type { DeviceEvent, DeviceInfo } from './device-info.js';
import { type DeviceControl, IDENTIFY_TIMEOUT_MS, type Probe } from './source.js';
import {
  candidatesFor,
  checkReady,
  isPrimary,
  isReadyPrimary,
  joinsUnit,
  keepLastSerial,
  linkUnit,
} from './units.js';

export class DeviceRegistry {
  readonly #devices = new Map<string, DeviceInfo>();
  readonly #probes = new Map<string, Probe>();
  readonly #controls = new Map<string, DeviceControl>();
  readonly #refreshing = new Map<string, Promise<DeviceInfo | undefined>>();
  /**
   * Ids jobs own (how many jobs: a silent endpoint may be a candidate of two units), kept across
   * unplug/replug (a phone re-enumerates when its job reboots it).
   */
  readonly #busy = new Map<string, number>();
  /** The endpoints each markBusy took, so release frees the same ones whatever they report meanwhile. */
  readonly #busyUnits = new Map<string, readonly string[]>();
  readonly #events = new EventStream<DeviceEvent>();

  list(): DeviceInfo[] {
    return [...this.#devices.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  get(id: string): DeviceInfo | undefined {
    return this.#devices.get(id);
  }

  /**
   * What a source saw. `probe`, when given, re-identifies the device on demand (refresh); `control` acts on
   * it (reboot). While a job owns the device (busy) its state stays busy: the source's view is kept for when
   * the job ends.
   */
  upsert(device: DeviceInfo, probe?: Probe, control?: DeviceControl): void {
    if (probe) this.#probes.set(device.id, probe);
    if (control) this.#controls.set(device.id, control);
    this.#store(this.#busy.has(device.id) ? { ...device, state: 'busy' } : device);
  }

  /** Change some fields of a known device; no-op for unknown ids. */
  update(id: string, changes: Partial<Omit<DeviceInfo, 'id'>>): DeviceInfo | undefined {
    const before = this.#devices.get(id);
    if (!before) return undefined;
    return this.#store({ ...before, ...changes, id });
  }

  /**
   * The ids that may reach the unit `id` belongs to: the leading endpoint first, then the unit's others
   * (also those not answering now: the fastboot port of a phone that runs Android, last seen with its
   * serial), then silent endpoints of a protocol the unit was never seen on (units.ts#candidatesFor).
   * Unknown ids: `[id]`.
   */
  endpointsOf(id: string): string[] {
    const d = this.#devices.get(id);
    if (!d || !joinsUnit(d)) return [id];
    const unit = this.#unit(d.serial);
    const leader = d.sameAs ?? unit.find(isPrimary)?.id ?? id;
    const others = [...unit, ...candidatesFor(unit, this.#devices.values())].map((u) => u.id);
    return [leader, ...others.filter((u) => u !== leader)];
  }

  /** How to act on one endpoint (reboot), when its source offers it. */
  controlOf(id: string): DeviceControl | undefined {
    return this.#controls.get(id);
  }

  /** A job took the unit: every endpoint of it is busy, so no probe opens a link the job may need. */
  markBusy(id: string): void {
    const unit = this.endpointsOf(id);
    if (this.#busyUnits.has(id)) return;
    this.#busyUnits.set(id, unit);
    for (const e of unit) this.#busy.set(e, (this.#busy.get(e) ?? 0) + 1);
    for (const e of unit) this.update(e, { state: 'busy' });
  }

  /**
   * The job on the unit ended: every endpoint it owned is identified again (what the device now reports:
   * version, slot, mode). Resolves with the unit's leading endpoint (or `id`) once all have answered.
   */
  async release(id: string): Promise<DeviceInfo | undefined> {
    const unit = this.#busyUnits.get(id) ?? [id];
    this.#busyUnits.delete(id);
    const freed = unit.filter((e) => {
      const jobs = (this.#busy.get(e) ?? 1) - 1;
      if (jobs > 0) this.#busy.set(e, jobs);
      else this.#busy.delete(e);
      return jobs <= 0;
    });
    await Promise.all(
      freed.map((e) => {
        const d = this.#devices.get(e);
        if (d?.state !== 'busy') return d;
        // Without a probe (a device added by hand) nothing more can be learned: it is simply free again.
        if (!this.#probes.has(e)) return this.#store({ ...d, state: 'ready' });
        this.#store({ ...d, state: 'identifying' });
        return this.refresh(e);
      }),
    );
    const [leader = id] = this.endpointsOf(id);
    return this.#devices.get(leader) ?? this.#devices.get(id);
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
    this.#controls.delete(id);
    const before = this.#devices.get(id);
    if (!before) return;
    const led = this.#leaders();
    this.#devices.delete(id);
    this.#emit({ type: 'removed', id });
    // The endpoint others pointed at left: the next answering one becomes the unit.
    const olds = new Map<string, DeviceInfo | undefined>();
    if (before.serial) this.#relink(before.serial, led, olds);
    this.#emitChanges(olds);
  }

  /** Subscribe to events; returns an unsubscribe function. */
  subscribe(listener: (event: DeviceEvent) => void): () => void {
    return this.#events.subscribe(listener);
  }

  /** Events as an async iterable that ends when `signal` aborts. */
  async *events(signal?: AbortSignal): AsyncGenerator<DeviceEvent> {
    yield* this.#events.events(signal);
  }

  #store(reported: DeviceInfo): DeviceInfo {
    const before = this.#devices.get(reported.id);
    const { sameAs: _reported, ...fresh } = checkReady(keepLastSerial(before, reported));
    const led = this.#leaders();
    this.#devices.set(fresh.id, fresh);
    // This device first, so its added/changed event comes before those of the endpoints relinked with it.
    const olds = new Map<string, DeviceInfo | undefined>([[fresh.id, before]]);
    for (const serial of new Set([before?.serial, fresh.serial])) if (serial) this.#relink(serial, led, olds);
    this.#emitChanges(olds);
    return this.#devices.get(fresh.id) ?? fresh;
  }

  #unit(serial: string): DeviceInfo[] {
    return [...this.#devices.values()].filter((d) => d.serial === serial && joinsUnit(d));
  }

  #leaders(): Set<string> {
    return new Set([...this.#devices.values()].filter(isPrimary).map((d) => d.id));
  }

  /** Set `sameAs` on every endpoint of the unit `serial`; records the previous record of each it changes. */
  #relink(serial: string, led: ReadonlySet<string>, olds: Map<string, DeviceInfo | undefined>): void {
    const members = this.#unit(serial);
    const links = linkUnit(members, (id) => led.has(id));
    for (const m of members) {
      const sameAs = links.get(m.id);
      if (m.sameAs === sameAs) continue;
      if (!olds.has(m.id)) olds.set(m.id, m);
      const { sameAs: _old, ...rest } = m;
      this.#devices.set(m.id, sameAs ? { ...rest, sameAs } : rest);
    }
  }

  #emitChanges(olds: ReadonlyMap<string, DeviceInfo | undefined>): void {
    for (const [id, before] of olds) {
      const device = this.#devices.get(id);
      if (!device) continue;
      if (!before) this.#emit({ type: 'added', device });
      else if (JSON.stringify(before) !== JSON.stringify(device)) this.#emit({ type: 'changed', device });
      if (isReadyPrimary(device) && !(before && isReadyPrimary(before)))
        this.#emit({ type: 'ready', device });
    }
  }

  #emit(event: DeviceEvent): void {
    this.#events.emit(event);
  }
}
