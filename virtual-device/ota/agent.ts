/**
 * The device-side OTA agent: polls a signed repository, and when it offers a newer package for this device,
 * updates the inactive slot and boots it — the seed's "client", in the RAUC/Mender order: verify the head
 * first, check storage, mark the target slot bad, stream verified blocks into it, confirm every hash, make it
 * bootable, switch the boot flag, reboot, then commit (mark-successful) after a healthy boot or report the
 * fallback the boot control did. Every attempt is reported phase by phase (reporter.ts) with its final
 * Flashline status code. State survives power loss (agent-store.ts); the next poll resumes.
 * See docs/ota.md.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { toErrorData } from '../../main/common/errors.js';
import { statusInfo } from '../../main/common/status-codes.js';
import { loadStationPrivateKey, loadTrustStore, type StationPrivateKey } from '../../main/package/index.js';
import type { OtaPhase, OtaReport } from '../../main/protocol/ota/report.js';
import { TransientHttpError } from '../../main/repo/ranged-get.js';
import { PowerCutError } from '../faults.js';
import { otherSlot } from '../state-store.js';
import { AgentStore, type Attempt, PowerLost } from './agent-store.js';
import { findUpdate, type Update } from './find-update.js';
import type { OtaHost } from './host.js';
import {
  checkOtaOptions,
  DEFAULT_OTA_INTERVAL_SECONDS,
  DEFAULT_OTA_SITE,
  type OtaAgentOptions,
} from './options.js';
import { OtaReporter } from './reporter.js';
import { type InstallContext, installFromRepository, switchAndBoot } from './update-steps.js';

/** What one poll did. */
export type OtaPollResult =
  | { readonly outcome: 'none'; readonly why: string }
  | { readonly outcome: 'attempt'; readonly status: number; readonly report: OtaReport }
  /** The repository was refused or unreachable before a package was chosen (no attempt to report). */
  | { readonly outcome: 'refused'; readonly status: number; readonly message: string }
  /** The device lost power during the poll; the next poll resumes. */
  | { readonly outcome: 'interrupted' };

export class OtaAgent extends EventEmitter<{
  /** Every report of every attempt, as it is queued (before it is sent). */
  report: [OtaReport];
  /** Something a person running the device should see (the agent keeps running). */
  problem: [message: string];
}> {
  readonly options: OtaAgentOptions;
  readonly store: AgentStore;
  readonly reporter: OtaReporter;
  #queue: Promise<unknown> = Promise.resolve();
  #lost = false;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #polling = false;
  readonly #onDown = (why: string) => {
    if (why !== 'power-cut') return;
    this.#lost = true;
    this.reporter.powerLost();
  };
  readonly #onCut = () => this.#onDown('power-cut');
  readonly #onUp = () => {
    if (this.#stopped) return;
    const wasLost = this.#lost;
    // Power is back. A poll that was running when it went ends first (it must not write on), then clears it.
    if (!this.#polling) this.#lost = false;
    void this.reporter.powerOn().catch((err: unknown) => this.#problem(err));
    // After a power cut the agent carries on at once (resume); otherwise at the next interval.
    if (wasLost && !this.#polling && !this.options.manual) this.#schedule(0);
  };

  constructor(
    readonly host: OtaHost,
    options: OtaAgentOptions,
  ) {
    super();
    this.options = checkOtaOptions(options);
    const device = host.device;
    this.store = new AgentStore(host.stateDir, () => !this.#lost && device.mode !== 'off');
    this.reporter = new OtaReporter(this.store, {
      url: this.options.report,
      site: this.options.site ?? DEFAULT_OTA_SITE,
      serial: () => device.serial,
      log: (line) => this.emit('problem', line),
    });
  }

  start(): void {
    this.host.on('down', this.#onDown);
    this.host.on('up', this.#onUp);
    this.host.device.on('power-cut', this.#onCut);
    void this.reporter.powerOn().catch((err: unknown) => this.#problem(err));
    if (!this.options.manual) this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.pollNow()
        .catch((err: unknown) => this.#problem(err))
        .finally(() => {
          if (!this.#stopped && !this.#timer)
            this.#schedule((this.options.intervalSeconds ?? DEFAULT_OTA_INTERVAL_SECONDS) * 1000);
        });
    }, ms);
  }

  #problem(err: unknown): void {
    this.emit('problem', err instanceof Error ? err.message : String(err));
  }

  /** Poll now (one poll at a time): check the repository and run or resume an update. */
  pollNow(): Promise<OtaPollResult> {
    const run = this.#queue.then(async () => {
      this.#polling = true;
      try {
        return await this.#poll();
      } finally {
        this.#polling = false;
        if (this.#lost && !this.#stopped) {
          await this.host.whenUp();
          this.#lost = false;
          void this.reporter.flush();
          // Resume at once rather than at the next interval.
          if (!this.options.manual) this.#schedule(0);
        }
      }
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #poll(): Promise<OtaPollResult> {
    await this.host.whenUp();
    this.#lost = false;
    const device = this.host.device;
    if (device.mode !== 'os') return { outcome: 'none', why: `the device is in ${device.mode}, not its OS` };
    let attempt = await this.store.loadAttempt();
    try {
      if (attempt && attempt.phase !== 'downloading') return await this.#finishAttempt(attempt);
      const found = await findUpdate(
        { url: this.options.url, root: this.options.root, home: this.store.repoHome },
        {
          product: device.product,
          runningVersion: device.runningVersion,
          rollbackIndex: device.rollbackIndex,
        },
        await this.store.declined(),
      );
      if ('none' in found) return { outcome: 'none', why: found.none };
      if (attempt?.target.sha256 !== found.entry.sha256) {
        // An unfinished attempt for an older package ends here, so the fleet does not wait for it.
        if (attempt)
          await this.report(attempt, 'failed', { status: 18, message: `superseded by ${found.entry.name}` });
        attempt = await this.#newAttempt(found);
        await this.report(attempt, 'checking', { message: `found ${found.entry.name}` });
      }
      const ctx = await this.#context();
      attempt = await installFromRepository(ctx, attempt);
      return await this.#finishAttempt(attempt);
    } catch (err) {
      return await this.#failed(err, attempt);
    }
  }

  async #finishAttempt(attempt: Attempt): Promise<OtaPollResult> {
    try {
      const done = await switchAndBoot(await this.#context(), attempt);
      return { outcome: 'attempt', status: 0, report: done };
    } catch (err) {
      return await this.#failed(err, attempt);
    }
  }

  async #context(): Promise<InstallContext> {
    const decryptionKeys: StationPrivateKey[] = [];
    for (const file of this.options.decryptionKeys ?? [])
      decryptionKeys.push(await loadStationPrivateKey(file));
    return {
      host: this.host,
      store: this.store,
      trust: await loadTrustStore({ dirs: this.options.trust }),
      decryptionKeys,
      report: (a, phase, extra) => this.report(a, phase, extra),
      lost: () => this.#lost,
    };
  }

  async #newAttempt({ entry, url }: Update): Promise<Attempt> {
    const device = this.host.device;
    await this.store.clearAttempt();
    const attempt: Attempt = {
      v: 1,
      attemptId: randomUUID(),
      seq: 0,
      startedAt: new Date().toISOString(),
      fromVersion: device.runningVersion,
      target: { name: entry.name, url, length: entry.length, sha256: entry.sha256 },
      package: {
        version: entry.package.version,
        rollbackIndex: entry.package.rollbackIndex,
        manifestSha256: entry.package.manifestSha256,
      },
      slot: otherSlot(device.bootedSlot ?? device.bootControl.active),
      phase: 'downloading',
      bytesDone: 0,
      checkpoint: null,
    };
    await this.store.saveAttempt(attempt);
    return attempt;
  }

  /**
   * Persist the next seq, then queue the report (outbox first). The seq continues from the stored attempt
   * when that is further on: install steps report on copies of the attempt, and a final report made from an
   * older copy must still be newer than everything sent, or the fleet ignores it as stale.
   */
  async report(
    attempt: Attempt,
    phase: OtaPhase,
    extra: { status?: number; message?: string } = {},
  ): Promise<OtaReport> {
    const saved = await this.store.loadAttempt();
    const last = saved?.attemptId === attempt.attemptId ? Math.max(saved.seq, attempt.seq) : attempt.seq;
    const seq = last + 1;
    if (phase !== 'done' && phase !== 'failed') await this.store.saveAttempt({ ...attempt, seq });
    attempt.seq = seq;
    const device = this.host.device;
    const report: OtaReport = {
      v: 1,
      attemptId: attempt.attemptId,
      seq,
      serial: device.serial,
      product: device.product,
      fromVersion: attempt.fromVersion,
      package: { id: attempt.target.name, version: attempt.package.version, sha256: attempt.target.sha256 },
      phase,
      ...(extra.status !== undefined
        ? { status: extra.status, statusName: statusInfo(extra.status).name }
        : {}),
      ...(extra.message ? { message: extra.message.slice(0, 2000) } : {}),
      bytesDone: attempt.bytesDone,
      bytesTotal: attempt.target.length,
      slot: attempt.slot,
      startedAt: attempt.startedAt,
      at: new Date().toISOString(),
    };
    await this.reporter.add(report);
    this.emit('report', report);
    return report;
  }

  /** An attempt that did not end 0: power loss (resume later), or a final report with the code. */
  async #failed(err: unknown, attempt: Attempt | null): Promise<OtaPollResult> {
    if (err instanceof PowerCutError || err instanceof PowerLost || this.#lost)
      return { outcome: 'interrupted' };
    const data = toErrorData(err);
    // A FlashlineError carries its status code; anything else is an install failure of the agent itself.
    const status =
      err instanceof TransientHttpError
        ? 10
        : typeof data.code === 'number' && data.code >= 10 && data.code <= 49
          ? data.code
          : 30;
    const message = err instanceof Error ? err.message : String(err);
    if (!attempt) {
      this.emit('problem', message);
      return { outcome: 'refused', status, message };
    }
    try {
      const report = await this.report(attempt, 'failed', { status, message });
      const keep = status >= 10 && status < 20 && status !== 13;
      if (keep) {
        // The bytes already in the slot stay; the next poll starts a new attempt that resumes them.
        await this.store.saveAttempt({
          ...attempt,
          attemptId: randomUUID(),
          seq: 0,
          startedAt: new Date().toISOString(),
        });
      } else await this.store.clearAttempt();
      return { outcome: 'attempt', status, report };
    } catch (e) {
      if (e instanceof PowerLost || this.#lost) return { outcome: 'interrupted' };
      throw e;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.host.off('down', this.#onDown);
    this.host.off('up', this.#onUp);
    this.host.device.off('power-cut', this.#onCut);
    await this.#queue.catch(() => {});
    await this.reporter.stop();
  }
}
