/**
 * The broker's state without the network: sessions by client id, the subscription table, retained
 * messages, and the routing of each published message to its subscribers. Connections
 * (connection.ts) call it; it calls back into a connection only through SessionLink.
 *
 * Session lifecycle (MQTT 5 §3.1.2.4, §3.1.2.11.2): Clean Start discards an existing session;
 * otherwise it is resumed (sessionPresent). When the connection closes, a session with expiry 0
 * ends at once, others are kept (offline) for their expiry interval. A second connection with the
 * same client id takes the session over (the first is closed with "session taken over").
 */
import { brokerMessage, type BrokerMessage, type PublishedMessage } from './message.js';
import { ReasonCode } from './reason-codes.js';
import { RetainedStore } from './retained.js';
import { Session, type DeliveryResult, type SessionLink } from './session.js';
import { SubscriptionTable, type SubscriptionOptions } from './subscriptions.js';
import { parseSubscriptionFilter } from './topic-filter.js';

export interface Will {
  /** Becomes a message when published (its expiry interval starts then). */
  message: PublishedMessage;
  delayS: number;
}

export interface SubscribeResult {
  /** SUBACK reason code: the granted QoS, or an error code. */
  code: number;
  /** Retained messages to send once the SUBACK is out. */
  retained: BrokerMessage[];
}

/** Counters kept by the router and its connections (see EmbeddedBrokerStats). */
export interface RouterCounters {
  connectionsTotal: number;
  refusedConnections: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  noSubscriberMessages: number;
  droppedMessages: number;
  oversizeMessages: number;
  willsPublished: number;
  malformedPackets: number;
  protocolErrors: number;
  internalErrors: number;
}

/** setTimeout takes at most 2^31 - 1 ms (24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Router {
  readonly counters: RouterCounters = {
    connectionsTotal: 0, refusedConnections: 0, messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, noSubscriberMessages: 0,
    droppedMessages: 0, oversizeMessages: 0, willsPublished: 0, malformedPackets: 0, protocolErrors: 0, internalErrors: 0,
  };
  private readonly sessions = new Map<string, Session>();
  private readonly table = new SubscriptionTable<Session>();
  private readonly retained = new RetainedStore();

  /** `maxQueuedMessages`: per offline or busy session; beyond it new QoS 1 messages are dropped (and counted). */
  constructor(private readonly maxQueuedMessages: number) {}

  /** Attaches `link` to the session of `clientId`, taking it over from another connection first. */
  open(clientId: string, cleanStart: boolean, expiryS: number, link: SessionLink): { session: Session; sessionPresent: boolean } {
    this.sessions.get(clientId)?.link?.takeOver(); // detaches synchronously (and may end the session)
    let session = this.sessions.get(clientId);
    if (session && cleanStart) {
      this.end(session);
      session = undefined;
    }
    const sessionPresent = session !== undefined;
    if (!session) this.sessions.set(clientId, (session = new Session(clientId, this.maxQueuedMessages)));
    clearTimeout(session.expiryTimer);
    session.expiryTimer = undefined;
    if (session.pendingWill) {
      // Back before the will delay ran out: the will is not sent (§3.1.3.2.2).
      clearTimeout(session.pendingWill.timer);
      session.pendingWill = undefined;
    }
    session.expiryS = expiryS;
    session.link = link;
    return { session, sessionPresent };
  }

  /** The connection of `session` closed; `will` (absent after a normal DISCONNECT) goes out now or after its delay. */
  detach(session: Session, link: SessionLink, will: Will | undefined): void {
    if (session.link !== link) return;
    session.link = undefined;
    if (will) {
      const delayMs = Math.min(will.delayS, session.expiryS) * 1000;
      if (delayMs <= 0) this.publishWill(will.message);
      else {
        const timer = setTimeout(() => {
          session.pendingWill = undefined;
          this.publishWill(will.message);
        }, Math.min(delayMs, MAX_TIMER_MS));
        session.pendingWill = { message: will.message, timer: timer.unref() };
      }
    }
    if (session.expiryS === 0) this.end(session);
    else session.expiryTimer = setTimeout(() => this.end(session), Math.min(session.expiryS * 1000, MAX_TIMER_MS)).unref();
  }

  /** Routes a message to every matching subscription; returns how many matched (0: PUBACK "no matching subscribers"). */
  publish(message: BrokerMessage, publisher: Session | undefined): number {
    const now = Date.now();
    this.counters.messagesIn++;
    if (message.retain) this.retained.update(message);
    const { plain, groups } = this.table.match(message.topic, publisher);
    for (const [session, options] of plain) this.deliver(session, message, options, now);
    for (const group of groups) {
      const member = this.table.takeTurn(group, (session) => session.link !== undefined);
      this.deliver(member.subscriber, message, member.options, now);
    }
    const matched = plain.size + groups.length;
    if (matched === 0) this.counters.noSubscriberMessages++;
    return matched;
  }

  subscribe(session: Session, rawFilter: string, options: SubscriptionOptions): SubscribeResult {
    const parsed = parseSubscriptionFilter(rawFilter);
    if (!parsed) return { code: ReasonCode.TopicFilterInvalid, retained: [] };
    const existed = this.table.add(session, parsed.share, parsed.filter, options);
    session.subscriptions.set(rawFilter, parsed);
    // Shared subscriptions get no retained messages (§4.8.2).
    const sendRetained = parsed.share === undefined && (options.retainHandling === 0 || (options.retainHandling === 1 && !existed));
    return { code: options.qos, retained: sendRetained ? this.retained.matching(parsed.filter, Date.now()) : [] };
  }

  /** The retained messages of a SubscribeResult, with the RETAIN flag, at most at the granted QoS. */
  sendRetained(session: Session, result: SubscribeResult): void {
    const now = Date.now();
    for (const message of result.retained) {
      const qos = message.qos < result.code ? message.qos : (result.code as 0 | 1);
      this.count(session.deliver(message, qos, true, now));
    }
  }

  /** UNSUBACK reason code for one filter. */
  unsubscribe(session: Session, rawFilter: string): number {
    const parsed = session.subscriptions.get(rawFilter);
    if (!parsed) return ReasonCode.NoSubscriptionExisted;
    this.table.remove(session, parsed.share, parsed.filter);
    session.subscriptions.delete(rawFilter);
    return ReasonCode.Success;
  }

  stats() {
    let offlineSessions = 0;
    let queuedMessages = 0;
    let inFlightMessages = 0;
    for (const session of this.sessions.values()) {
      if (!session.link) offlineSessions++;
      queuedMessages += session.queuedCount;
      inFlightMessages += session.inFlightCount;
    }
    return {
      sessions: this.sessions.size, offlineSessions, subscriptions: this.table.size, retainedMessages: this.retained.size,
      queuedMessages, inFlightMessages,
    };
  }

  /** Drops every session without publishing wills (the broker is closing). */
  dispose(): void {
    for (const session of this.sessions.values()) {
      clearTimeout(session.expiryTimer);
      clearTimeout(session.pendingWill?.timer);
    }
    this.sessions.clear();
  }

  private deliver(session: Session, message: BrokerMessage, options: SubscriptionOptions, now: number): void {
    const qos = message.qos < options.qos ? message.qos : options.qos;
    this.count(session.deliver(message, qos, options.retainAsPublished && message.retain, now));
  }

  private count(result: DeliveryResult): void {
    if (result === 'dropped') this.counters.droppedMessages++;
  }

  private publishWill(will: PublishedMessage): void {
    this.counters.willsPublished++;
    this.publish(brokerMessage(will, Date.now()), undefined);
  }

  /** Ends a session: its subscriptions go, a will still waiting for its delay goes out now. */
  private end(session: Session): void {
    clearTimeout(session.expiryTimer);
    for (const sub of session.subscriptions.values()) this.table.remove(session, sub.share, sub.filter);
    session.subscriptions.clear();
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId);
    const will = session.pendingWill;
    if (will) {
      clearTimeout(will.timer);
      session.pendingWill = undefined;
      this.publishWill(will.message);
    }
  }
}
