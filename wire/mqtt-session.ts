/**
 * One MQTT 5 client that stays connected: connects, and after every lost connection (or failed
 * attempt) reconnects after a Backoff delay. mqtt.js's own fixed-period reconnect is off
 * (reconnectPeriod 0); we call client.reconnect() ourselves. Used by the uplink and the receiver.
 *
 * On a lost connection, QoS 1 publishes still waiting for PUBACK are removed from mqtt.js (their
 * callbacks get an error): the caller owns re-sending (the uplink re-reads them from the store), so
 * mqtt.js must not resend its own copies as well (and client.reconnect() drops its store anyway).
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { Backoff, type BackoffOptions } from './backoff.js';
import { brokerClientOptions, type BrokerOptions } from './broker-options.js';
import type { Logger } from './log.js';


export interface SessionOptions {
  broker: BrokerOptions;
  clientId: string;
  /** false: persistent session (subscriptions and queued QoS 1 messages survive reconnects). */
  clean: boolean;
  /** MQTT 5 session expiry after disconnect, seconds (only with clean false). */
  sessionExpiryS?: number;
  will?: IClientOptions['will'];
  backoff?: BackoffOptions;
  log: Logger;
  /** MQTT 5 topic aliases for our publishes (a 2-byte alias instead of the topic after its first use). */
  topicAliases?: boolean;
  /** Called just before each reconnect attempt (e.g. to refresh the will). */
  beforeReconnect?: (client: MqttClient) => void;
}

export class MqttSession {
  readonly client: MqttClient;
  private readonly backoff: Backoff;
  private readonly log: Logger;
  private readonly beforeReconnect?: (client: MqttClient) => void;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastError = '';
  /** Successful connections (CONNACK received). */
  connects = 0;
  /** Connections lost or attempts failed. */
  closes = 0;
  /** Bytes written to sockets of closed connections (see wireBytesSent). */
  private closedSocketBytes = 0;

  constructor(options: SessionOptions) {
    this.log = options.log;
    this.beforeReconnect = options.beforeReconnect;
    this.backoff = new Backoff(options.backoff);
    const base = brokerClientOptions(options.broker);
    this.client = mqtt.connect({
      ...base,
      clientId: options.clientId,
      clean: options.clean,
      properties: options.clean ? undefined : { sessionExpiryInterval: options.sessionExpiryS ?? 86_400 },
      will: options.will,
      autoAssignTopicAlias: options.topicAliases ?? false,
    });
    const where = `${options.broker.url} as ${options.clientId}`;
    // Without an 'error' listener an EventEmitter error would crash the process.
    this.client.on('error', (err) => {
      if (err.message !== this.lastError) options.log('warn', `mqtt ${where}: ${err.message}`);
      this.lastError = err.message;
    });
    this.client.on('connect', (connack) => {
      this.connects++;
      this.backoff.reset();
      this.lastError = '';
      options.log('info', `mqtt connected to ${where}${connack.sessionPresent ? ' (session resumed)' : ''}`);
    });
    this.client.on('close', () => {
      this.closes++;
      this.closedSocketBytes += socketBytes(this.client);
      for (const id of Object.keys(this.client.outgoing)) this.client.removeOutgoingMessage(Number(id));
      this.scheduleReconnect();
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  start(): void {
    this.client.connect();
  }

  /** Bytes written to the broker's sockets so far (MQTT packets, plus TLS records on mqtts). */
  get wireBytesSent(): number {
    return this.closedSocketBytes + (this.client.connected ? socketBytes(this.client) : 0);
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.timer) return;
    const delay = this.backoff.next();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      this.beforeReconnect?.(this.client);
      this.client.reconnect();
    }, delay);
  }

  /**
   * Stops reconnecting and disconnects: when connected, waits (up to `timeoutMs`) for outstanding
   * PUBACKs, then sends DISCONNECT, so the broker drops the will; otherwise closes at once.
   */
  async stop(timeoutMs = 2000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.client.connected) {
      try {
        await withTimeout(this.client.endAsync(false), timeoutMs);
        return;
      } catch {
        // broker not answering: fall through to a forced close
      }
    }
    await this.client.endAsync(true);
  }
}

/** `promise`, or a rejection after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function socketBytes(client: MqttClient): number {
  const stream = client.stream as unknown as { bytesWritten?: number } | undefined;
  return stream?.bytesWritten ?? 0;
}
