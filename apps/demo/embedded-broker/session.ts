/**
 * One client's session: its subscriptions and its outgoing QoS 1 messages. It outlives the
 * connection when the client asked for a session expiry interval (a persistent session): QoS 1
 * messages are queued while it is offline (bounded; QoS 0 ones are not kept) and the publishes
 * not yet PUBACKed are sent again, with DUP and their packet ids, when the client comes back.
 *
 * Flow control: at most the client's Receive Maximum QoS 1 publishes wait for PUBACK; the rest
 * waits in the queue, in order.
 */
import type { IPublishPacket } from 'mqtt-packet';
import { publishPacket, type BrokerMessage, type PublishedMessage } from './message.js';
import type { SubscriptionFilter } from './topic-filter.js';

/** The connection a session is attached to, as the session sees it. */
export interface SessionLink {
  /** The client's Receive Maximum: QoS 1 publishes it takes before acknowledging. */
  readonly receiveMaximum: number;
  /** Writes a PUBLISH; false when it could not be sent (larger than the client's Maximum Packet Size). */
  sendPublish(packet: IPublishPacket): boolean;
  /** Closes the connection: another connection with the same client id took the session. */
  takeOver(): void;
}

/** sent; queued (offline or window full); dropped (queue full); skipped (QoS 0 offline, expired, too large). */
export type DeliveryResult = 'sent' | 'queued' | 'dropped' | 'skipped';

interface Outgoing {
  message: BrokerMessage;
  retain: boolean;
}

export class Session {
  link: SessionLink | undefined;
  /** Seconds the session lives on after its connection closed. */
  expiryS = 0;
  /** The subscription filters as the client wrote them (with `$share/...`), parsed. */
  readonly subscriptions = new Map<string, SubscriptionFilter>();
  /** Set while the session is offline and will expire. */
  expiryTimer: NodeJS.Timeout | undefined;
  /** A will waiting for its Will Delay Interval after an abnormal close. */
  pendingWill: { message: PublishedMessage; timer: NodeJS.Timeout } | undefined;
  private readonly inFlight = new Map<number, Outgoing>();
  private readonly queue: Outgoing[] = [];
  private lastId = 0;

  constructor(
    readonly clientId: string,
    private readonly maxQueued: number,
  ) {}

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  get queuedCount(): number {
    return this.queue.length;
  }

  deliver(message: BrokerMessage, qos: 0 | 1, retain: boolean, nowMs: number): DeliveryResult {
    if (qos === 0) {
      const packet = this.link && publishPacket(message, { qos, retain }, nowMs);
      return packet && this.link!.sendPublish(packet) ? 'sent' : 'skipped';
    }
    if (this.link && this.queue.length === 0 && this.inFlight.size < this.link.receiveMaximum) {
      return this.send({ message, retain }, nowMs) ? 'sent' : 'skipped';
    }
    if (this.queue.length >= this.maxQueued) return 'dropped';
    this.queue.push({ message, retain });
    return 'queued';
  }

  /** The client's PUBACK: frees a window slot for the queue. False for an unknown packet id. */
  acknowledge(messageId: number, nowMs: number): boolean {
    if (!this.inFlight.delete(messageId)) return false;
    this.drain(nowMs);
    return true;
  }

  /** After a (re)connect: the unacknowledged publishes again (DUP, same packet ids), then the queue. */
  resume(nowMs: number): void {
    for (const [id, out] of this.inFlight) {
      const packet = this.link && publishPacket(out.message, { qos: 1, retain: out.retain, messageId: id, dup: true }, nowMs);
      if (!packet || !this.link!.sendPublish(packet)) this.inFlight.delete(id);
    }
    this.drain(nowMs);
  }

  private drain(nowMs: number): void {
    while (this.link && this.queue.length > 0 && this.inFlight.size < this.link.receiveMaximum) {
      this.send(this.queue.shift()!, nowMs);
    }
  }

  private send(out: Outgoing, nowMs: number): boolean {
    const id = this.nextPacketId();
    const packet = publishPacket(out.message, { qos: 1, retain: out.retain, messageId: id }, nowMs);
    if (!packet || !this.link!.sendPublish(packet)) return false;
    this.inFlight.set(id, out);
    return true;
  }

  /** The next packet id not waiting for a PUBACK (the window, at most 65,535, guarantees one is free). */
  private nextPacketId(): number {
    do this.lastId = this.lastId === 0xffff ? 1 : this.lastId + 1;
    while (this.inFlight.has(this.lastId));
    return this.lastId;
  }
}
