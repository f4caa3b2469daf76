/**
 * The vehicle's MQTT 5 uplink.
 *
 * - One persistent session per vehicle (client id = VIN, clean false, session expiry), reconnected
 *   with exponential backoff and jitter (MqttSession).
 * - After every connect: retained Presence online (the last will is the retained Presence offline),
 *   the retained Checkin, then pending control messages, then the store's backlog.
 * - Upload: rows from the store by priority then sequence, at most `maxInFlight` QoS 1 publishes
 *   unacknowledged. Sample rows wait in the batching window (batch-window.ts, `batchWindowMs`) and
 *   leave merged: consecutive rows of one stream and priority with contiguous seq ranges become one
 *   data message (sample-merge.ts); records (events) never wait. A row is acked in the store (deleted
 *   by its next commit) only when the broker has PUBACKed every part of the message carrying it.
 *   A lost connection makes the store hand the unacked rows out again (at-least-once: the receiver
 *   sees duplicates by sequence, never gaps). Every row's message carries the store epoch (user
 *   property `epoch`): a new store file restarts the sequences in a new epoch.
 * - Downlink: cmd/req and rules are checked to be a SignedCommand / SignedRulesUpdate envelope and
 *   handed to the registered handler as bytes; the PUBACK goes after the handler returned, so a
 *   command is redelivered if the agent dies before taking it (mqtt.js reads the next packet only
 *   then: downlink messages wait at the broker, not in the agent). Each kind has a size bound
 *   (DOWNLINK_MAX_BYTES: a few KiB for a command, 256 KiB for rules), plain or inflated: the CONNECT
 *   announces a Maximum Packet Size so that the broker drops larger packets, and inflating stops at
 *   the bound. Garbage is refused, counted by reason (downlinkRefused) and logged.
 * - Control messages (command responses, rules acks, status) are kept in memory until PUBACKed and
 *   re-sent after a reconnect; their promises resolve on PUBACK.
 */
import { EventEmitter } from 'node:events';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { Presence, SignedCommand, SignedRulesUpdate, type ICheckin } from '../../proto/gen/roadlink.js';
import type { StoredRow } from '../store/store.js';
import type { BackoffOptions } from '../../wire/backoff.js';
import type { BrokerOptions } from '../../wire/broker-options.js';
import { encodeCheckin, newBootId } from './checkin.js';
import { MqttSession, withTimeout } from '../../wire/mqtt-session.js';
import type { Logger } from '../../wire/log.js';
import { DOWNLINK_MAX_BYTES, DOWNLINK_MAX_PACKET_BYTES, pack, PayloadError, publishProperties, unpack, type PackedPayload } from '../../wire/payload.js';
import { BatchWindow } from './batch-window.js';
import { RowPayloader, type RowPayloads } from './row-payloads.js';
import { checkVin, vehicleTopics, type DownKind, type TopicKind } from '../../wire/topics.js';

/** The part of agent/store/store.ts the uplink uses. */
export interface UplinkStore {
  /** The store epoch (store.ts): sent with every row, and in the Checkin. */
  readonly epoch: string;
  nextBatch(maxRows: number): StoredRow[];
  ack(rowIds: readonly number[]): void;
  releaseInFlight(): number;
}

export type MessageHandler = (bytes: Buffer) => Promise<void> | void;

export interface UplinkOptions {
  vin: string;
  broker: BrokerOptions;
  store: UplinkStore;
  /** The Checkin sent after every connect; vin, bootId, timeMs and signalTable are filled in when missing. */
  checkin: () => ICheckin;
  /** Default: a random UUID per Uplink. */
  bootId?: string;
  /** How long the broker keeps the session (subscriptions, queued commands) while offline. Default 7 days. */
  sessionExpiryS?: number;
  /** Unacknowledged publishes at most (also capped by the broker's Receive Maximum). Default 16. */
  maxInFlight?: number;
  /** Largest payload; larger sample chunks are split. Default 128 KiB. */
  maxPayloadBytes?: number;
  /** Compress payloads with raw deflate when it makes them smaller. Default true. */
  deflate?: boolean;
  /** Rows fetched from the store per query. Default 64. */
  batchRows?: number;
  /**
   * Sample rows wait until the oldest has waited this long (or they would fill a message, or wake()
   * / stop() is called), then leave merged into as few messages as possible. Default 0: at once.
   */
  batchWindowMs?: number;
  /** How often an idle uplink looks for new rows. Default 200 ms. */
  pollIntervalMs?: number;
  backoff?: BackoffOptions;
  /**
   * The PUBACK of a downlink message waits this long at most for its handler. Default 2000 ms.
   * mqtt.js handles incoming packets one at a time, so while a handler runs no PUBACK for our own
   * publishes is processed either: handlers must resolve once they have taken the message (verified,
   * recorded), not when the command completes, and must not await the uplink's publishes.
   */
  handlerTimeoutMs?: number;
  /** Streams of the store and the topic each goes to. Default { data: 'data', events: 'events' }. */
  streamTopics?: Record<string, TopicKind>;
  log?: Logger;
}

export interface UplinkStats {
  connected: boolean;
  connects: number;
  /** Lost connections and failed attempts. */
  disconnects: number;
  /** Publishes of store rows (parts count separately) and their payload bytes. */
  publishedMessages: number;
  publishedPayloadBytes: number;
  deflatedMessages: number;
  /** Publishes PUBACKed. */
  ackedMessages: number;
  /** Rows acked in the store (all parts PUBACKed), with their samples and records. */
  ackedRows: number;
  ackedSamples: number;
  ackedRecords: number;
  /** Rows sent as several parts. */
  splitRows: number;
  /** Messages carrying several merged sample rows, and the rows they carried. */
  mergedMessages: number;
  mergedRows: number;
  /** Sample rows waiting in the batching window. */
  heldRows: number;
  /** Rows handed back to the store unacked because the connection was lost. */
  releasedRows: number;
  /** PUBACKs with an error reason code (e.g. not authorized): the row waits for the store's in-flight timeout. */
  rejectedPublishes: number;
  /** Records larger than maxPayloadBytes (left in the store, logged). */
  oversizeRows: number;
  /** Rows of a stream with no topic (left in the store, logged). */
  unroutableRows: number;
  inFlightMessages: number;
  /** Bytes written to the broker sockets (everything, including TLS and keep-alives). */
  wireBytesSent: number;
  /** Downlink messages received, of which garbage (bad topic, size, encoding or envelope) and handler failures. */
  receivedMessages: number;
  badMessages: number;
  handlerErrors: number;
  /** The garbage by reason: not_subscribed, oversize, inflate_bound, unknown_encoding, bad_deflate, malformed. */
  downlinkRefused: Record<string, number>;
  /** Control messages (responses, acks, status) waiting for PUBACK. */
  controlPending: number;
}

/** One message (possibly in parts) carrying one row or several merged sample rows. */
interface RowInFlight {
  rows: StoredRow[];
  partsLeft: number;
  generation: number;
}

interface ControlMessage {
  kind: TopicKind;
  payload: Buffer;
  retain: boolean;
  sending: boolean;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Control messages (a few hundred bytes each) waiting for PUBACK at most: beyond, publishControl rejects. */
const MAX_CONTROL_PENDING = 1000;

export declare interface Uplink {
  on(event: 'connect' | 'close', listener: () => void): this;
  on(event: 'acked', listener: (row: StoredRow) => void): this;
}

export class Uplink extends EventEmitter {
  readonly vin: string;
  readonly bootId: string;
  private readonly session: MqttSession;
  private readonly client: MqttClient;
  private readonly store: UplinkStore;
  private readonly topics: Record<TopicKind, string>;
  private readonly payloader: RowPayloader;
  private readonly log: Logger;
  private readonly options: Required<Pick<UplinkOptions, 'maxInFlight' | 'batchRows' | 'pollIntervalMs' | 'handlerTimeoutMs' | 'deflate'>>;
  private readonly streamTopics: Record<string, TopicKind>;
  private readonly checkin: () => ICheckin;

  private window = 0;
  private inFlight = 0;
  /** Bumped at every connect: callbacks of publishes from an older connection are ignored. */
  private generation = 0;
  private readonly rows = new Map<number, RowInFlight>();
  /** Fetched rows (marked in flight by the store) waiting for window space, with their parts. */
  private queue: { flight: RowInFlight; parts: PackedPayload[]; next: number }[] = [];
  private readonly control: ControlMessage[] = [];
  private pollTimer: NodeJS.Timeout | undefined;
  private pumping = false;
  private stopped = false;
  private readonly batchWindow: BatchWindow;
  /** Send held sample rows without waiting for the window, until the store has nothing more (wake, stop). */
  private flushing = false;
  private connectedSinceMs = Date.now();
  private commandHandler: MessageHandler | undefined;
  private rulesHandler: MessageHandler | undefined;
  private readonly refused: Record<string, number> = {};
  private readonly counts = {
    publishedMessages: 0, publishedPayloadBytes: 0, deflatedMessages: 0, ackedMessages: 0, ackedRows: 0,
    ackedSamples: 0, ackedRecords: 0, splitRows: 0, mergedMessages: 0, mergedRows: 0, releasedRows: 0, rejectedPublishes: 0, oversizeRows: 0,
    unroutableRows: 0, receivedMessages: 0, badMessages: 0, handlerErrors: 0,
  };

  constructor(options: UplinkOptions) {
    super();
    this.vin = checkVin(options.vin);
    this.bootId = options.bootId ?? newBootId();
    this.store = options.store;
    this.checkin = options.checkin;
    this.topics = vehicleTopics(this.vin);
    this.log = options.log ?? ((level, message) => console.error(`roadlink uplink ${level}: ${message}`));
    this.options = {
      maxInFlight: Math.max(1, options.maxInFlight ?? 16),
      batchRows: Math.max(1, options.batchRows ?? 64),
      pollIntervalMs: Math.max(1, options.pollIntervalMs ?? 200),
      handlerTimeoutMs: options.handlerTimeoutMs ?? 2000,
      deflate: options.deflate ?? true,
    };
    this.streamTopics = options.streamTopics ?? { data: 'data', events: 'events' };
    const maxPayloadBytes = options.maxPayloadBytes ?? 128 * 1024;
    this.payloader = new RowPayloader(maxPayloadBytes, this.options.deflate);
    this.batchWindow = new BatchWindow(Math.max(0, options.batchWindowMs ?? 0), maxPayloadBytes);
    this.session = new MqttSession({
      broker: options.broker,
      clientId: this.vin,
      clean: false,
      sessionExpiryS: options.sessionExpiryS ?? 7 * 86_400,
      will: this.will(),
      topicAliases: true,
      maxPacketBytes: DOWNLINK_MAX_PACKET_BYTES,
      backoff: options.backoff,
      log: this.log,
      beforeReconnect: (client) => {
        this.connectedSinceMs = Date.now();
        client.options.will = this.will();
      },
    });
    this.client = this.session.client;
    this.client.handleMessage = (packet, done) => {
      this.onMessage(packet).then(
        () => done(),
        (err: Error) => {
          this.log('error', `downlink message on ${packet.topic}: ${err.message}`);
          done();
        },
      );
    };
    this.client.on('connect', (connack) => this.onConnect(connack.properties?.receiveMaximum));
    this.client.on('close', () => this.onClose());
  }

  // --- public API ----------------------------------------------------------------------------------

  /**
   * Registers the handler of cmd/req messages (SignedCommand bytes). Register before start(). The
   * PUBACK goes after the handler resolved (see handlerTimeoutMs): resolve once the command is taken.
   */
  onCommand(handler: MessageHandler): void {
    this.commandHandler = handler;
  }

  /** Registers the handler of rules messages (SignedRulesUpdate bytes). Register before start(). */
  onRulesUpdate(handler: MessageHandler): void {
    this.rulesHandler = handler;
  }

  /** Publishes a CommandResponse on cmd/res; resolves on PUBACK (re-sent across reconnects until then). */
  publishCommandResponse(bytes: Uint8Array): Promise<void> {
    return this.publishControl('cmd/res', bytes, false);
  }

  /** Publishes a RulesAck on rules/ack; resolves on PUBACK. */
  publishRulesAck(bytes: Uint8Array): Promise<void> {
    return this.publishControl('rules/ack', bytes, false);
  }

  /** Publishes the Status (retained); a newer status replaces one not yet sent. Resolves on PUBACK (or when superseded). */
  publishStatus(bytes: Uint8Array): Promise<void> {
    for (let i = this.control.length - 1; i >= 0; i--) {
      const old = this.control[i];
      if (old.kind === 'status' && !old.sending) {
        this.control.splice(i, 1);
        old.resolve();
      }
    }
    return this.publishControl('status', bytes, true);
  }

  start(): void {
    this.session.start();
  }

  /**
   * Looks for rows at once instead of at the next poll (after committing something urgent), and
   * sends the sample rows held by the batching window, and those the store has now, without waiting.
   * Agent.drained() calls it until the store is empty.
   */
  wake(): void {
    this.flushing = true;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    this.pump();
  }

  /**
   * Sends the rows held by the batching window (as far as the in-flight window allows), publishes
   * Presence offline (waits up to `timeoutMs` for its PUBACK, which comes after those of the rows
   * sent before it), disconnects cleanly (so the broker drops the will) and hands unacked rows back
   * to the store.
   */
  async stop(timeoutMs = 2000): Promise<void> {
    if (this.stopped) return;
    this.wake();
    this.stopped = true;
    clearTimeout(this.pollTimer);
    if (this.session.connected) {
      const offline = Presence.encode({ online: false, sinceMs: Date.now(), bootId: this.bootId, reason: 'shutdown' }).finish();
      await withTimeout(this.publish('online', pack(offline, false), true), timeoutMs).catch(() => undefined);
    }
    await this.session.stop(timeoutMs);
    this.generation++; // late callbacks must not touch the store, which the caller may close now
    this.releaseRows();
    for (const c of this.control.splice(0)) c.reject(new Error('uplink stopped'));
  }

  stats(): UplinkStats {
    return {
      ...this.counts,
      connected: this.session.connected,
      connects: this.session.connects,
      disconnects: this.session.closes,
      inFlightMessages: this.inFlight,
      heldRows: this.batchWindow.size,
      wireBytesSent: this.session.wireBytesSent,
      controlPending: this.control.length,
      downlinkRefused: { ...this.refused },
    };
  }

  // --- connection ------------------------------------------------------------------------------------

  private will() {
    const offline = Presence.encode({ online: false, sinceMs: this.connectedSinceMs, bootId: this.bootId }).finish();
    return { topic: this.topics.online, payload: Buffer.from(offline), qos: 1 as const, retain: true };
  }

  private onConnect(receiveMaximum: number | undefined): void {
    this.generation++;
    this.window = Math.min(this.options.maxInFlight, receiveMaximum ?? 65_535);
    const now = Date.now();
    const online = Presence.encode({ online: true, sinceMs: now, bootId: this.bootId }).finish();
    // Not tracked: if the connection drops first, the next connect sends fresh ones.
    this.publish('online', pack(online, false), true).catch(() => undefined);
    let checkin: Uint8Array;
    try {
      checkin = encodeCheckin({ storeEpoch: this.store.epoch, ...this.checkin() }, this.vin, this.bootId, now);
      this.publish('checkin', pack(checkin, this.options.deflate), true).catch(() => undefined);
    } catch (err) {
      this.log('error', `cannot build the Checkin: ${(err as Error).message}`);
    }
    this.client.subscribe([this.topics['cmd/req'], this.topics.rules], { qos: 1 }, (err, granted) => {
      if (err) this.log('error', `subscribe failed: ${err.message}`);
      for (const g of granted ?? []) if (g.qos > 1) this.log('error', `subscription to ${g.topic} refused (reason ${g.qos})`);
    });
    for (const c of this.control) this.sendControl(c);
    this.emit('connect');
    this.pump();
  }

  private onClose(): void {
    // After stop() the caller may have closed the store: stop() released the rows itself.
    if (this.stopped) return;
    // MqttSession has already failed the publishes still waiting for PUBACK.
    this.releaseRows();
    for (const c of this.control) c.sending = false;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    this.emit('close');
  }

  /** Every row fetched and not acked goes back to the store (sent again after the next connect). */
  private releaseRows(): void {
    this.counts.releasedRows += this.rows.size + this.batchWindow.clear();
    this.rows.clear();
    this.queue = [];
    this.inFlight = 0;
    this.store.releaseInFlight();
  }

  // --- upload ------------------------------------------------------------------------------------

  /** Fills the in-flight window from the local queue, refilled from the store. */
  private pump(): void {
    if (this.pumping || this.stopped || !this.session.connected) return;
    this.pumping = true;
    try {
      while (this.inFlight < this.window) {
        if (this.queue.length === 0 && !this.fetch()) {
          this.schedulePoll();
          break;
        }
        const item = this.queue[0];
        const part = item.parts[item.next++];
        if (item.next === item.parts.length) this.queue.shift();
        this.sendPart(item.flight, part);
      }
    } finally {
      this.pumping = false;
    }
  }

  /**
   * Reads rows from the store: records into the queue, sample rows into the batching window, which
   * releases them into the queue as merged groups when due. False when there is nothing to send.
   */
  private fetch(): boolean {
    for (;;) {
      const rows = this.store.nextBatch(this.options.batchRows);
      const now = Date.now();
      for (const row of rows) {
        // Released by the store's in-flight timeout while we still hold it or our publish is still out.
        if (this.rows.has(row.rowId) || this.batchWindow.has(row.rowId)) continue;
        if (this.streamTopics[row.stream] === undefined) {
          this.counts.unroutableRows++;
          this.log('error', `row ${row.rowId} of stream "${row.stream}" has no topic (streamTopics); left in the store`);
          continue;
        }
        if (row.kind === 'samples') this.batchWindow.hold(row, now);
        else this.enqueue([row]);
      }
      const storeEmpty = rows.length < this.options.batchRows;
      if (this.flushing || this.batchWindow.due(now)) for (const group of this.batchWindow.take()) this.enqueue(group);
      if (storeEmpty) this.flushing = false;
      if (storeEmpty || this.queue.length > 0) return this.queue.length > 0;
    }
  }

  /** Prepares the message for `rows` (one row, or contiguous sample rows to merge) and queues it. */
  private enqueue(rows: StoredRow[]): void {
    let payloads: RowPayloads;
    try {
      payloads = rows.length === 1 ? this.payloader.payloads(rows[0]) : this.payloader.merged(rows);
    } catch (err) {
      if (rows.length > 1) {
        this.log('warn', `rows ${rows[0].rowId}..${rows[rows.length - 1].rowId} cannot be merged (${(err as Error).message}); sent one by one`);
        for (const row of rows) this.enqueue([row]);
        return;
      }
      this.counts.oversizeRows++;
      this.log('error', `row ${rows[0].rowId} of stream "${rows[0].stream}" cannot be prepared: ${(err as Error).message}; left in the store`);
      return;
    }
    if (payloads.oversize) {
      this.counts.oversizeRows += rows.length;
      this.log('error', `row ${rows[0].rowId} of stream "${rows[0].stream}" does not fit in maxPayloadBytes even split; left in the store`);
      return;
    }
    if (rows.length > 1) {
      this.counts.mergedMessages++;
      this.counts.mergedRows += rows.length;
    } else if (payloads.parts.length > 1) this.counts.splitRows++;
    const flight: RowInFlight = { rows, partsLeft: payloads.parts.length, generation: this.generation };
    for (const row of rows) this.rows.set(row.rowId, flight);
    this.queue.push({ flight, parts: payloads.parts, next: 0 });
  }

  private sendPart(flight: RowInFlight, part: PackedPayload): void {
    const first = flight.rows[0];
    const kind = this.streamTopics[first.stream];
    this.inFlight++;
    this.counts.publishedMessages++;
    this.counts.publishedPayloadBytes += part.payload.length;
    if (part.deflated) this.counts.deflatedMessages++;
    const seq = first.kind === 'record' ? first.firstSeq : undefined;
    const stream = first.stream !== kind ? first.stream : undefined;
    const epoch = this.store.epoch;
    this.client.publish(this.topics[kind], part.payload, { qos: 1, properties: publishProperties(part, { seq, stream, epoch }) }, (err) => {
      if (flight.generation !== this.generation) return; // an older connection's publish (or after stop)
      this.inFlight--;
      if (this.rows.get(first.rowId) === flight) {
        if (err) this.onPublishError(flight, err);
        else {
          this.counts.ackedMessages++;
          if (--flight.partsLeft === 0) this.onFlightAcked(flight);
        }
      }
      this.pump();
    });
  }

  /** Every part of the message PUBACKed: each row it carried is acked in the store. */
  private onFlightAcked(flight: RowInFlight): void {
    for (const row of flight.rows) this.rows.delete(row.rowId);
    this.store.ack(flight.rows.map((row) => row.rowId));
    for (const row of flight.rows) {
      this.counts.ackedRows++;
      if (row.kind === 'samples') this.counts.ackedSamples += row.count;
      else this.counts.ackedRecords++;
      this.emit('acked', row);
    }
  }

  private onPublishError(flight: RowInFlight, err: Error): void {
    if (!this.session.connected) return; // the connection is gone; onClose releases the row
    // The broker answered with an error reason (not authorized, quota...): retrying at once would
    // loop, so the row stays in flight in the store until its in-flight timeout hands it out again.
    this.counts.rejectedPublishes++;
    for (const row of flight.rows) this.rows.delete(row.rowId);
    this.queue = this.queue.filter((q) => q.flight !== flight);
    const first = flight.rows[0];
    const ids = flight.rows.length > 1 ? `rows ${first.rowId}..${flight.rows[flight.rows.length - 1].rowId}` : `row ${first.rowId}`;
    this.log('error', `broker refused ${ids} (stream "${first.stream}"): ${err.message}`);
  }

  private schedulePoll(): void {
    if (this.pollTimer || this.stopped) return;
    // Held rows: look again when their window ends, if that comes before the next poll.
    const delay = Math.min(this.options.pollIntervalMs, this.batchWindow.remainingMs(Date.now()));
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      this.pump();
    }, delay);
    this.pollTimer.unref();
  }

  // --- control messages --------------------------------------------------------------------------

  private publishControl(kind: TopicKind, bytes: Uint8Array, retain: boolean): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('uplink stopped'));
    if (this.control.length >= MAX_CONTROL_PENDING) {
      return Promise.reject(new Error(`uplink: ${MAX_CONTROL_PENDING} control messages already wait for the broker`));
    }
    return new Promise<void>((resolve, reject) => {
      const message: ControlMessage = { kind, payload: Buffer.from(bytes), retain, sending: false, resolve, reject };
      this.control.push(message);
      if (this.session.connected) this.sendControl(message);
    });
  }

  private sendControl(message: ControlMessage): void {
    message.sending = true;
    const generation = this.generation;
    this.publish(message.kind, pack(message.payload, false), message.retain).then(
      () => {
        const at = this.control.indexOf(message);
        if (at >= 0) this.control.splice(at, 1);
        message.resolve();
      },
      (err: Error) => {
        if (generation !== this.generation || !this.session.connected) return; // re-sent after the next connect
        const at = this.control.indexOf(message);
        if (at >= 0) this.control.splice(at, 1);
        message.reject(new Error(`broker refused ${message.kind}: ${err.message}`));
      },
    );
  }

  private publish(kind: TopicKind, packed: PackedPayload, retain: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.publish(this.topics[kind], packed.payload, { qos: 1, retain, properties: publishProperties(packed) }, (err) =>
        err ? reject(err) : resolve(),
      );
    });
  }

  // --- downlink ------------------------------------------------------------------------------------

  private async onMessage(packet: IPublishPacket): Promise<void> {
    this.counts.receivedMessages++;
    const topic = packet.topic;
    const handler = topic === this.topics['cmd/req'] ? this.commandHandler : topic === this.topics.rules ? this.rulesHandler : undefined;
    const kind: DownKind | undefined = topic === this.topics['cmd/req'] ? 'cmd/req' : topic === this.topics.rules ? 'rules' : undefined;
    if (kind === undefined) return this.bad(topic, 'not_subscribed', 'not a topic this vehicle subscribes to');
    let bytes: Buffer;
    try {
      bytes = unpack(packet.payload as Buffer, packet.properties, DOWNLINK_MAX_BYTES[kind]);
    } catch (err) {
      return this.bad(topic, err instanceof PayloadError ? err.reason : 'bad_deflate', (err as Error).message);
    }
    const problem = kind === 'cmd/req' ? envelopeProblem(bytes, 'command') : envelopeProblem(bytes, 'rules');
    if (problem) return this.bad(topic, 'malformed', problem);
    if (!handler) {
      this.counts.handlerErrors++;
      this.log('warn', `no handler registered for ${kind}; message dropped`);
      return;
    }
    try {
      const done = handler(bytes);
      if (done) await withTimeout(Promise.resolve(done), this.options.handlerTimeoutMs);
    } catch (err) {
      this.counts.handlerErrors++;
      this.log('error', `${kind} handler failed: ${(err as Error).message}`);
    }
  }

  /** A refused downlink message: counted by reason; logged the first 10 times per reason, then every 1000th. */
  private bad(topic: string, reason: string, detail: string): void {
    this.counts.badMessages++;
    const n = (this.refused[reason] = (this.refused[reason] ?? 0) + 1);
    if (n <= 10 || n % 1000 === 0) this.log('warn', `refused a message on ${topic}: ${reason} (${n} so far): ${detail}`);
  }
}

const ED25519_SIGNATURE_BYTES = 64;

/** Why `bytes` is not a signed envelope (SignedCommand / SignedRulesUpdate), or undefined when it is one. */
function envelopeProblem(bytes: Buffer, what: 'command' | 'rules'): string | undefined {
  let body: Uint8Array;
  let signature: Uint8Array;
  try {
    if (what === 'command') ({ request: body, signature } = SignedCommand.decode(bytes));
    else ({ update: body, signature } = SignedRulesUpdate.decode(bytes));
  } catch (err) {
    return `not a ${what === 'command' ? 'SignedCommand' : 'SignedRulesUpdate'}: ${(err as Error).message}`;
  }
  if (body.length === 0) return `${what === 'command' ? 'SignedCommand.request' : 'SignedRulesUpdate.update'} is empty`;
  if (signature.length !== ED25519_SIGNATURE_BYTES) return `signature has ${signature.length} bytes, not ${ED25519_SIGNATURE_BYTES}`;
  return undefined;
}

