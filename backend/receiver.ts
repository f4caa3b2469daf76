/**
 * Backend reference receiver (`roadlink backend`): subscribes to every vehicle's uplink topics and
 * writes one JSON line per message (message-json.ts), tracking sequence gaps and duplicates per
 * vehicle, store epoch (user property `epoch`, "" when absent) and stream (epoch-sequences.ts).
 *
 * Scaling out: data, events, status, cmd/res, rules/ack and online are MQTT 5 shared subscriptions
 * (`$share/<group>/roadlink/v1/+/data`...), so the broker spreads messages over every receiver of
 * the group. Checkins are subscribed without sharing: every receiver needs every vehicle's signal
 * table, and a retained Checkin is delivered on subscribe (shared subscriptions get no retained
 * messages). Gap tracking therefore only makes sense per receiver when the group has one member.
 * With `shared: false` one receiver takes everything through plain subscriptions.
 *
 * A message is PUBACKed after its line was written. Garbage (bad encoding, not the protobuf its
 * topic says) becomes one `{"type":"error"}` line with topic and reason, and is counted.
 */
import type { IPublishPacket } from 'mqtt';
import type { BackoffOptions } from '../wire/backoff.js';
import type { BrokerOptions } from '../wire/broker-options.js';
import { MessageDecoder, MessageError, rfc3339 } from './message-json.js';
import { MqttSession } from '../wire/mqtt-session.js';
import type { Logger } from '../wire/log.js';
import { EPOCH_PROPERTY, PayloadError, SEQ_PROPERTY, STREAM_PROPERTY, unpack, userProperty } from '../wire/payload.js';
import { EpochSequences, type StreamSummary } from './epoch-sequences.js';
import type { SequenceSummary } from './sequence-tracker.js';
import { allVehiclesFilter, parseTopic, UP_KINDS, type UpKind } from '../wire/topics.js';

export interface ReceiverOptions {
  broker: BrokerOptions;
  /** Shared-subscription group. Default "roadlink-backend". */
  group?: string;
  /**
   * false: plain subscriptions (one receiver gets everything). With a persistent session these survive
   * a broker restart on mosquitto 2.0.11, whose persistence does not restore shared subscriptions.
   * Default true.
   */
  shared?: boolean;
  /** Client id. When given, the session is persistent (messages queued while the receiver is away). */
  clientId?: string;
  /** Receives each JSON line (without the newline). */
  writeLine: (line: string) => void;
  /** Gap/duplicate reports and connection messages (stderr in the CLI). */
  log: Logger;
  backoff?: BackoffOptions;
}

export interface ReceiverSummary {
  messages: number;
  errors: number;
  undecodedSamples: number;
  /** vin -> stream -> sequence summary (of the latest store epoch; earlier epochs inside). */
  vehicles: Record<string, Record<string, StreamSummary>>;
}

export class Receiver {
  private readonly session: MqttSession;
  private readonly decoder = new MessageDecoder();
  private readonly trackers = new Map<string, Map<string, EpochSequences>>();
  private readonly writeLine: (line: string) => void;
  private readonly log: Logger;
  private readonly filters: string[];
  private messages = 0;
  private errors = 0;
  private subscribed: Promise<void>;
  private resolveSubscribed!: () => void;
  private rejectSubscribed!: (err: Error) => void;

  constructor(options: ReceiverOptions) {
    const group = options.group ?? 'roadlink-backend';
    if (!/^[^/#+]+$/.test(group)) throw new Error(`group "${group}" must not contain "/", "#" or "+"`);
    this.writeLine = options.writeLine;
    this.log = options.log;
    const shared = options.shared ?? true;
    this.filters = UP_KINDS.map((kind) => allVehiclesFilter(kind, kind === 'checkin' || !shared ? undefined : group));
    this.subscribed = new Promise((resolve, reject) => {
      this.resolveSubscribed = resolve;
      this.rejectSubscribed = reject;
    });
    const persistent = options.clientId !== undefined;
    this.session = new MqttSession({
      broker: options.broker,
      clientId: options.clientId ?? `${group}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      clean: !persistent,
      sessionExpiryS: 86_400,
      backoff: options.backoff,
      log: options.log,
    });
    const client = this.session.client;
    client.handleMessage = (packet, done) => {
      this.onMessage(packet);
      done();
    };
    client.on('connect', () => {
      client.subscribe(this.filters, { qos: 1 }, (err, granted) => {
        const refused = (granted ?? []).filter((g) => g.qos > 1).map((g) => `${g.topic} (reason ${g.qos})`);
        if (err || refused.length > 0) {
          const why = err ? err.message : `refused: ${refused.join(', ')}`;
          this.log('error', `receiver: subscribe failed: ${why}`);
          this.rejectSubscribed(new Error(`subscribe failed: ${why}`));
        } else this.resolveSubscribed();
      });
    });
  }

  /** Connects and subscribes; resolves once the subscriptions are granted. */
  start(): Promise<void> {
    this.session.start();
    return this.subscribed;
  }

  async stop(): Promise<ReceiverSummary> {
    await this.session.stop();
    return this.summary();
  }

  summary(): ReceiverSummary {
    const vehicles: ReceiverSummary['vehicles'] = {};
    for (const [vin, streams] of this.trackers) {
      vehicles[vin] = {};
      for (const [stream, tracker] of streams) vehicles[vin][stream] = tracker.summary();
    }
    return { messages: this.messages, errors: this.errors, undecodedSamples: this.decoder.undecodedSamples, vehicles };
  }

  private onMessage(packet: IPublishPacket): void {
    const topic = packet.topic;
    const parsed = parseTopic(topic);
    if (!parsed || !(UP_KINDS as readonly string[]).includes(parsed.kind)) return this.error(topic, 'not a roadlink/v1 uplink topic');
    const kind = parsed.kind as UpKind;
    try {
      const bytes = unpack(packet.payload as Buffer, packet.properties);
      const seqProperty = userProperty(packet.properties, SEQ_PROPERTY);
      const recordSeq = seqProperty !== undefined && /^\d+$/.test(seqProperty) ? Number(seqProperty) : undefined;
      const stream = userProperty(packet.properties, STREAM_PROPERTY);
      const epoch = userProperty(packet.properties, EPOCH_PROPERTY) ?? '';
      const { json, seq } = this.decoder.decode(parsed.vin, kind, bytes, { seq: recordSeq, stream });
      if (seq && epoch !== '') json.epoch = epoch;
      json.received = rfc3339(Date.now());
      if (packet.retain) json.retained = true;
      this.messages++;
      this.writeLine(JSON.stringify(json));
      if (seq) this.track(parsed.vin, epoch, seq.stream, seq.first, seq.count);
    } catch (err) {
      if (err instanceof MessageError || err instanceof PayloadError) return this.error(topic, err.message);
      throw err;
    }
  }

  /** Sequences count per (vehicle, store epoch, stream): a new epoch is a new space (epoch-sequences.ts). */
  private track(vin: string, epoch: string, stream: string, first: number, count: number): void {
    let streams = this.trackers.get(vin);
    if (!streams) this.trackers.set(vin, (streams = new Map()));
    let tracker = streams.get(stream);
    if (!tracker) streams.set(stream, (tracker = new EpochSequences()));
    const arrival = tracker.add(epoch, first, count);
    if (arrival.newEpoch) {
      this.log('warn', `receiver: ${vin} ${stream}: new store epoch "${epoch}" (was "${arrival.newEpoch.previous}"): the vehicle's store was replaced, sequences start over at ${first}`);
    }
    if (arrival.gap) this.log('warn', `receiver: ${vin} ${stream}: gap, ${arrival.gap[0]}..${arrival.gap[1]} missing before ${first}`);
    if (arrival.duplicates > 0) {
      this.log('warn', `receiver: ${vin} ${stream}: ${arrival.duplicates} duplicate(s) in ${first}..${first + count - 1}`);
    }
  }

  private error(topic: string, reason: string): void {
    this.errors++;
    this.writeLine(JSON.stringify({ type: 'error', topic, reason, received: rfc3339(Date.now()) }));
  }
}

/** The summary as human-readable lines (the CLI prints them on stderr at exit). */
export function describeSummary(summary: ReceiverSummary): string[] {
  const lines = [`${summary.messages} messages, ${summary.errors} errors, ${summary.undecodedSamples} samples without a signal table entry`];
  for (const [vin, streams] of Object.entries(summary.vehicles)) {
    for (const [stream, current] of Object.entries(streams)) {
      const spaces: [string, SequenceSummary][] = [...Object.entries(current.earlier ?? {}), [current.epoch ?? '', current]];
      for (const [epoch, s] of spaces) {
        const holes = s.holes.length === 0 ? 'no gaps' : `gaps ${s.holes.map(([a, b]) => (a === b ? `${a}` : `${a}..${b}`)).join(', ')}`;
        const label = spaces.length > 1 ? ` (epoch "${epoch}")` : '';
        lines.push(`${vin} ${stream}${label}: seq ${s.first}..${s.last}, ${s.received} received, ${s.duplicates} duplicates, ${holes}`);
      }
    }
  }
  return lines;
}
