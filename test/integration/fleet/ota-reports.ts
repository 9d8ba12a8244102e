/** Made-up OTA attempt reports as a device's agent publishes them, for the ingest and rollout tests. */
import type { MqttClient } from 'mqtt';
import { type OtaPhase, type OtaReport, otaReportTopic } from '../../../main/protocol/ota/report.js';

export const OTA_PACKAGE = { id: 'demo', version: '2.0.0', sha256: 'a'.repeat(64) };

export function otaReport(o: {
  attemptId: string;
  seq: number;
  serial: string;
  phase: OtaPhase;
  status?: number;
  version?: string;
  startedAt?: Date;
  bytesDone?: number;
}): OtaReport {
  const now = new Date().toISOString();
  return {
    v: 1,
    attemptId: o.attemptId,
    seq: o.seq,
    serial: o.serial,
    product: 'flashline-virtual',
    fromVersion: '1.0.0',
    package: { ...OTA_PACKAGE, version: o.version ?? OTA_PACKAGE.version },
    phase: o.phase,
    ...(o.status !== undefined
      ? { status: o.status, statusName: o.status === 0 ? 'ok' : 'failed', message: 'ended' }
      : {}),
    bytesDone: o.bytesDone ?? o.seq * 100,
    bytesTotal: 1000,
    startedAt: o.startedAt?.toISOString() ?? now,
    at: now,
  };
}

/** Publish as the agent does (QoS 1); `serial` overrides the topic's (to test a mismatch). */
export async function publishOtaReport(
  client: MqttClient,
  site: string,
  r: OtaReport | string,
  serial?: string,
): Promise<void> {
  const topic = otaReportTopic(site, serial ?? (typeof r === 'string' ? 'X' : r.serial));
  await client.publishAsync(topic, typeof r === 'string' ? r : JSON.stringify(r), { qos: 1 });
}
