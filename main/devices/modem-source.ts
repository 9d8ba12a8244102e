/**
 * Modem AT ports named by hand (`flashline devices --modem PATH`): probed with AT, never with fastboot bytes
 * (a modem may take them as commands). Each appears in mode `modem` with its identity: manufacturer and
 * model (product), revision (version) and IMEI (serial). A port that does not answer AT stays listed as
 * `gone` or `error` with the reason, as a fastboot endpoint that does not answer does.
 */
import { AtProtocolError } from '../protocol/at/index.js';
import { OpenError, type SerialBackend, TimeoutError } from '../transport/index.js';
import type { DeviceInfo } from './device-info.js';
import { enterModemEdl, identifyModemAt } from './modem-actions.js';
import type { DeviceControl, DeviceSource, Probe } from './source.js';

export interface ModemSourceOptions {
  readonly paths: readonly string[];
  /** Per-command limit (ms). */
  readonly timeoutMs?: number;
  readonly backend?: SerialBackend;
}

function probeFor(path: string, opts: ModemSourceOptions): Probe {
  const base = { id: `serial:${path}`, connection: 'serial', address: path, mode: 'modem' } as const;
  return async (signal) => {
    try {
      const id = await identifyModemAt(path, {
        signal,
        ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
        ...(opts.backend ? { backend: opts.backend } : {}),
      });
      const product = [id.manufacturer, id.model].filter(Boolean).join(' ');
      const info: DeviceInfo = {
        ...base,
        state: 'ready',
        ...(product ? { product } : {}),
        ...(id.imei ? { serial: id.imei } : id.serial ? { serial: id.serial } : {}),
        ...(id.revision ? { version: id.revision } : {}),
        ...(id.manufacturer ? { manufacturer: id.manufacturer } : {}),
        ...(id.model ? { model: id.model } : {}),
        ...(id.imei ? { imei: id.imei } : {}),
      };
      return info;
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      // Not there at all vs. there but not speaking AT: the technician fixes them differently.
      const state = err instanceof OpenError || err instanceof TimeoutError ? 'gone' : 'error';
      const note = err instanceof AtProtocolError ? `${why} (wrong port, or not an AT port)` : why;
      return { ...base, state, note };
    }
  };
}

/** What the registry may ask of a modem no job owns: download mode (EDL) through the vendor table. */
function controlFor(path: string, opts: ModemSourceOptions): DeviceControl {
  return {
    async reboot(target, signal) {
      if (target !== 'edl')
        throw new Error(`a modem can only be switched to download mode (EDL), not to ${target || 'Android'}`);
      const result = await enterModemEdl(path, {
        signal,
        ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
        ...(opts.backend ? { backend: opts.backend } : {}),
      });
      const left = result.pending.map((p) => ('adb' in p ? `adb ${p.adb.join(' ')}` : JSON.stringify(p)));
      if (left.length > 0)
        throw new Error(`the modem accepted the switch but stayed; finish with: ${left.join(', ')}`);
      if (!result.ifAdbAppears) return undefined;
      const model = result.identity?.model;
      return { ifAdbAppears: result.ifAdbAppears, ...(model ? { model } : {}) };
    },
  };
}

export function modemSource(opts: ModemSourceOptions): DeviceSource {
  const pending = new Set<Promise<unknown>>();
  return {
    name: 'modem',
    async start(sink, signal) {
      for (const path of opts.paths) {
        const probe = probeFor(path, opts);
        const control = controlFor(path, opts);
        sink.upsert(
          { id: `serial:${path}`, connection: 'serial', address: path, mode: 'modem', state: 'identifying' },
          probe,
          control,
        );
        const p = probe(signal).then((info) => {
          if (!signal.aborted) sink.upsert(info, probe, control);
        });
        pending.add(p);
        void p.finally(() => pending.delete(p));
      }
    },
    async settled() {
      await Promise.allSettled([...pending]);
    },
  };
}
