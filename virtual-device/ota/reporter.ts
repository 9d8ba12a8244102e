/**
 * The agent's report sender: every report goes into the outbox on the device's storage first (atomic), then
 * to the fleet's MQTT broker (QoS 1, not retained, topic per the contract in main/protocol/ota/report.ts);
 * it leaves the outbox only once the broker acknowledged it. A broker that is away, a dropped connection or
 * a power cut loses nothing: the outbox is sent in order after the next connect. Delivery is at least once
 * (the receiver is idempotent on attemptId + seq).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { type OtaReport, otaReportTopic } from '../../main/protocol/ota/report.js';
import type { AgentStore } from './agent-store.js';

export class OtaReporter {
  #queue: OtaReport[] = [];
  #client: MqttClient | null = null;
  #flushing: Promise<void> | null = null;
  #lastError = '';
  #again = false;
  #changes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: AgentStore,
    private readonly options: {
      url?: string | undefined;
      site: string;
      serial: () => string;
      log: (line: string) => void;
    },
  ) {}

  /** Reports waiting for the broker (also on the device's storage). */
  get pending(): readonly OtaReport[] {
    return this.#queue;
  }

  /** Resolves once the outbox was read back from storage after the last power-on. */
  loaded: Promise<void> = Promise.resolve();

  /** Power on: the outbox on storage is the truth; connect and send it. */
  powerOn(): Promise<void> {
    if (this.#client) return this.loaded; // still connected: nothing was lost
    this.loaded = this.#powerOn();
    return this.loaded;
  }

  async #powerOn(): Promise<void> {
    this.#queue = await this.store.loadOutbox();
    const url = this.options.url;
    if (!url) return;
    const client = mqtt.connect(url, {
      clientId: `flashline-ota-${this.options.serial()}`.slice(0, 64),
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      keepalive: 15,
    });
    client.on('connect', () => void this.flush());
    client.on('error', (err) => {
      if (err.message === this.#lastError) return;
      this.#lastError = err.message;
      this.options.log(`report broker ${url}: ${err.message} (retrying; reports stay queued)`);
    });
    this.#client = client;
  }

  /** Power gone: the connection drops with it; what is not in the outbox file is lost (as on a device). */
  powerLost(): void {
    this.#client?.end(true);
    this.#client = null;
    this.#queue = [];
  }

  /** Queue a report (on storage first), then try to send. */
  async add(report: OtaReport): Promise<void> {
    await this.#change((queue) => [...queue, report]);
    void this.flush();
  }

  /** Outbox changes one at a time, file first, so memory and storage never disagree for long. */
  #change(fn: (queue: readonly OtaReport[]) => OtaReport[]): Promise<void> {
    const run = this.#changes.then(async () => {
      const next = fn(this.#queue);
      await this.store.saveOutbox(next);
      this.#queue = next;
    });
    this.#changes = run.catch(() => undefined);
    return run;
  }

  /** Send the outbox in order while connected; resolves when it is empty or the connection is away. */
  flush(): Promise<void> {
    if (this.#flushing) {
      // A report added while the loop is finishing: run it once more afterwards.
      this.#again = true;
      return this.#flushing;
    }
    this.#flushing = this.#flush().finally(() => {
      this.#flushing = null;
      if (this.#again) {
        this.#again = false;
        void this.flush();
      }
    });
    return this.#flushing;
  }

  async #flush(): Promise<void> {
    for (;;) {
      const client = this.#client;
      const report = this.#queue[0];
      if (!client?.connected || !report) return;
      try {
        await client.publishAsync(otaReportTopic(this.options.site, report.serial), JSON.stringify(report), {
          qos: 1,
          retain: false,
        });
      } catch {
        return; // not acknowledged: it stays first in the outbox for the next connect
      }
      if (this.#client !== client) return;
      try {
        await this.#change((queue) =>
          queue.filter((r) => r.attemptId !== report.attemptId || r.seq !== report.seq),
        );
      } catch {
        return; // power went: the report is sent again after power-on (idempotent on attemptId + seq)
      }
    }
  }

  async stop(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    await client?.endAsync().catch(() => {});
  }
}
