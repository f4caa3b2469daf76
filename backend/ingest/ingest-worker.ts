/**
 * An ingest worker: receives every vehicle's uploads from the broker and writes them to the
 * BackendStore, acknowledging each message only after its data was committed.
 *
 * Connections (MQTT 5, one MqttSession each):
 * - `connections` data connections (default 4), each a member of the shared subscriptions
 *   `$share/<group>/roadlink/v1/+/<kind>` for every uplink kind but checkin, with a persistent
 *   session (`<clientId>-<n>`): what was delivered but not acked when the worker died is delivered
 *   again when it comes back with the same client id, and the broker queues meanwhile. mqtt.js hands
 *   a connection's next message over only after the previous one's PUBACK, so several connections
 *   are what lets several messages share one transaction (CommitLoop);
 * - one checkin connection subscribed to `roadlink/v1/+/checkin` unshared (every worker needs every
 *   signal table; retained checkins come on subscribe), clean session.
 *
 * Malformed uploads are counted per reason (`stats().malformed`), logged and acked. Database outages
 * stop the acks until the database is back (CommitLoop); nothing is lost.
 */
import type { IPublishPacket } from 'mqtt';
import type { BackoffOptions } from '../../wire/backoff.js';
import type { BrokerOptions } from '../../wire/broker-options.js';
import { MqttSession } from '../../wire/mqtt-session.js';
import type { Logger } from '../../wire/log.js';
import { allVehiclesFilter, UP_KINDS } from '../../wire/topics.js';
import { CommitLoop, type CommitStats, type UploadSink } from './commit-loop.js';
import { UploadDecoder, UploadRejected, type RejectReason } from './upload-decoder.js';

export interface IngestWorkerOptions {
  broker: BrokerOptions;
  store: UploadSink;
  /** Base of the client ids (persistent sessions): keep it stable across restarts of this worker. */
  clientId: string;
  /** Shared-subscription group. Default "roadlink-ingest". */
  group?: string;
  /** Data connections (parallel deliveries, hence messages per transaction). Default 4. */
  connections?: number;
  log: Logger;
  backoff?: BackoffOptions;
  /** How long samples of a not-yet-stored signal table wait for its Checkin. Default 10 s. */
  signalTableWaitMs?: number;
}

export interface IngestStats extends CommitStats {
  received: number;
  malformed: Partial<Record<RejectReason, number>>;
}


export class IngestWorker {
  private readonly sessions: MqttSession[] = [];
  /** One per session: resolves when its subscriptions were granted (after the first connect). */
  private readonly subscribed: Promise<void>[] = [];
  private readonly decoder = new UploadDecoder();
  private readonly commits: CommitLoop;
  private readonly malformed: Partial<Record<RejectReason, number>> = {};
  private received = 0;
  private readonly log: Logger;

  constructor(private readonly options: IngestWorkerOptions) {
    const group = options.group ?? 'roadlink-ingest';
    if (!/^[^/#+]+$/.test(group)) throw new Error(`group "${group}" must not contain "/", "#" or "+"`);
    this.log = options.log;
    this.commits = new CommitLoop({
      sink: options.store,
      log: options.log,
      backoff: options.backoff,
      signalTableWaitMs: options.signalTableWaitMs,
      onRefused: () => this.count('refused-by-store'),
    });
    const shared = UP_KINDS.filter((k) => k !== 'checkin').map((k) => allVehiclesFilter(k, group));
    const count = Math.max(1, options.connections ?? 4);
    for (let n = 0; n < count; n++) this.sessions.push(this.session(`${options.clientId}-${n}`, false, shared));
    this.sessions.push(this.session(`${options.clientId}-checkin`, true, [allVehiclesFilter('checkin')]));
  }

  private session(clientId: string, clean: boolean, filters: string[]): MqttSession {
    let generation = 0;
    const session = new MqttSession({
      broker: this.options.broker,
      clientId,
      clean,
      sessionExpiryS: 7 * 86_400,
      backoff: this.options.backoff,
      log: this.log,
      customHandleAcks: (_topic, _message, packet, done) => {
        const delivered = generation;
        // A PUBACK for a connection that has since been lost is not sent: the broker delivers the message again.
        this.receive(packet, () => {
          if (delivered === generation) done(0);
        });
      },
    });
    session.client.on('close', () => generation++);
    this.subscribed.push(new Promise((resolve, reject) => {
      session.client.on('connect', () => {
        session.client.subscribe(filters, { qos: 1 }, (err, granted) => {
          const refused = (granted ?? []).filter((g) => g.qos > 1).map((g) => `${g.topic} (reason ${g.qos})`);
          if (err || refused.length > 0) {
            const why = err ? err.message : refused.join(', ');
            this.log('error', `ingest: ${clientId}: subscribe failed: ${why}`);
            reject(new Error(`subscribe failed: ${why}`));
          } else resolve();
        });
      });
    }));
    return session;
  }

  private receive(packet: IPublishPacket, ack: () => void): void {
    this.received++;
    try {
      const upload = this.decoder.decode(packet);
      this.commits.push({ upload, receivedMs: Date.now(), ack });
    } catch (err) {
      if (!(err instanceof UploadRejected)) throw err;
      this.count(err.reason);
      this.log('warn', `ingest: ${packet.topic}: ${err.reason}: ${err.message}`);
      ack();
    }
  }

  private count(reason: RejectReason): void {
    this.malformed[reason] = (this.malformed[reason] ?? 0) + 1;
  }

  /** Connects every session; resolves once all are connected and subscribed. */
  async start(): Promise<void> {
    for (const s of this.sessions) s.start();
    await Promise.all(this.subscribed);
  }

  stats(): IngestStats {
    return { ...this.commits.stats, received: this.received, malformed: { ...this.malformed } };
  }

  /** Stops: the batch being written finishes; messages not committed stay unacked in the broker. */
  async stop(): Promise<IngestStats> {
    await this.commits.stop();
    await Promise.all(this.sessions.map((s) => s.stop(1000)));
    return this.stats();
  }
}
