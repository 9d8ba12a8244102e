/**
 * One MQTT connection as the live bus uses it: reconnects on its own, never blocks the station while the
 * broker is away, and never queues messages while disconnected (memory must not grow with a long broker
 * outage; whoever publishes republishes its whole current state on every connect instead).
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** The URL as it may be shown: without its password. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(an invalid URL)';
  }
}

export interface LiveConnectionOptions {
  readonly url: string;
  readonly clientId: string;
  /** From the environment or a 0600 file, never from fleet.json or the URL shown in logs. */
  readonly password?: string;
  readonly will?: IClientOptions['will'];
  readonly log: (line: string) => void;
  /** What this connection is for, in log lines ("live bus", "fleet dashboard"). */
  readonly purpose: string;
  /**
   * false: a persistent session (with a fixed clientId): the broker keeps this client's subscriptions and
   * its unacknowledged QoS 1 messages while it is away. Default true (the live bus republishes instead).
   */
  readonly clean?: boolean;
  /** Called on every (re)connect, before anything else is sent. */
  readonly onConnect: (client: MqttClient) => void;
}

export function openLiveConnection(options: LiveConnectionOptions): MqttClient {
  const client = mqtt.connect(options.url, {
    clientId: options.clientId,
    clean: options.clean ?? true,
    reconnectPeriod: 2000,
    connectTimeout: 5000,
    keepalive: 10,
    queueQoSZero: false,
    ...(options.will ? { will: options.will } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
  });
  let lastError = '';
  client.on('connect', () => {
    lastError = '';
    options.log(`${options.purpose}: connected to ${shownUrl(options.url)}`);
    options.onConnect(client);
  });
  client.on('error', (err) => {
    // One line per distinct error, not one per retry.
    if (err.message === lastError) return;
    lastError = err.message;
    options.log(`${options.purpose}: ${shownUrl(options.url)}: ${err.message} (retrying)`);
  });
  return client;
}
