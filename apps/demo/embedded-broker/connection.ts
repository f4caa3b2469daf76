/**
 * One client's TCP connection: MQTT 5 packets parsed and generated with mqtt-packet, the protocol
 * rules of the connection (CONNECT first, keep-alive, topic aliases, Maximum QoS 1, packet size),
 * and the hand-over to the router for everything about sessions and routing.
 *
 * Anything the client gets wrong closes this connection only (DISCONNECT with a reason code and a
 * reason string when it is past CONNACK), is counted, and is logged; the broker goes on.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  generate, parser, type IConnectPacket, type IDisconnectPacket, type IPublishPacket, type ISubscribePacket, type IUnsubscribePacket, type Packet,
} from 'mqtt-packet';
import { brokerMessage } from './message.js';
import { ReasonCode, V4_UNACCEPTABLE_PROTOCOL_VERSION } from './reason-codes.js';
import type { Router, Will } from './router.js';
import type { Session, SessionLink } from './session.js';
import { validTopicName } from './topic-filter.js';

export interface ConnectionSettings {
  /** QoS 1 publishes a client may send before our PUBACK (CONNACK Receive Maximum). */
  receiveMaximum: number;
  /** Topic aliases a client may set (CONNACK Topic Alias Maximum). */
  topicAliasMaximum: number;
  /** Longest session expiry granted, seconds. */
  maxSessionExpiryS: number;
  /** Largest packet accepted from a client, bytes (CONNACK Maximum Packet Size). */
  maxPacketBytes: number;
  /** A socket that sends no CONNECT within this long is closed. */
  connectTimeoutMs: number;
  log: (message: string) => void;
}

const V5 = { protocolVersion: 5 };
/** After DISCONNECT the client should close; if it does not, the socket is destroyed after this. */
const CLOSE_GRACE_MS = 1000;

export class Connection implements SessionLink {
  receiveMaximum = 0xffff;
  private maximumPacketSize = Infinity;
  private readonly parser = parser(V5);
  private session: Session | undefined;
  private will: Will | undefined;
  private readonly topicAliases = new Map<number, string>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private who: string;

  constructor(
    private readonly socket: Socket,
    private readonly router: Router,
    private readonly settings: ConnectionSettings,
    private readonly onClosed: (connection: Connection) => void,
  ) {
    this.who = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => this.finish(true));
    this.parser.on('packet', (packet) => this.onPacket(packet));
    this.parser.on('error', (err: Error) => this.malformed(err.message));
    this.timer = setTimeout(() => this.fail(ReasonCode.KeepAliveTimeout, `no CONNECT within ${settings.connectTimeoutMs} ms`), settings.connectTimeoutMs);
  }

  // --- SessionLink ---------------------------------------------------------------------------------

  sendPublish(packet: IPublishPacket): boolean {
    if (this.closed) return false;
    const bytes = generate(packet, V5);
    if (bytes.length > this.maximumPacketSize) {
      this.router.counters.oversizeMessages++;
      return false;
    }
    this.router.counters.messagesOut++;
    this.write(bytes);
    return true;
  }

  takeOver(): void {
    this.send({ cmd: 'disconnect', reasonCode: ReasonCode.SessionTakenOver });
    this.close(true);
  }

  /** The broker is closing: DISCONNECT "server shutting down", no will. */
  shutdown(): void {
    if (this.session && !this.closed) this.send({ cmd: 'disconnect', reasonCode: ReasonCode.ServerShuttingDown });
    this.close(false);
  }

  /** Destroys the socket at once (broker close, after the grace period). */
  destroy(): void {
    this.finish(false);
    this.socket.destroy();
  }

  // --- incoming bytes and packets ----------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.router.counters.bytesIn += chunk.length;
    let unparsed: number;
    try {
      unparsed = this.parser.parse(chunk);
    } catch (err) {
      return this.malformed((err as Error).message);
    }
    // Whatever is left is the start of a packet not complete yet: refuse it before it is all buffered.
    if (!this.closed && unparsed > this.settings.maxPacketBytes) {
      this.fail(ReasonCode.PacketTooLarge, `packet larger than the maximum of ${this.settings.maxPacketBytes} bytes`);
    }
  }

  private onPacket(packet: Packet): void {
    if (this.closed) return;
    this.timer?.refresh(); // any packet counts for the keep-alive
    if ((packet.length ?? 0) > this.settings.maxPacketBytes) {
      return this.fail(ReasonCode.PacketTooLarge, `${packet.cmd.toUpperCase()} of ${packet.length} bytes, over the maximum of ${this.settings.maxPacketBytes}`);
    }
    try {
      this.handle(packet);
    } catch (err) {
      this.router.counters.internalErrors++;
      this.fail(ReasonCode.ImplementationSpecificError, `broker error on ${packet.cmd}: ${(err as Error).message}`);
    }
  }

  private handle(packet: Packet): void {
    const session = this.session;
    if (!session) {
      if (packet.cmd === 'connect') return this.onConnect(packet);
      return this.fail(ReasonCode.ProtocolError, `${packet.cmd} before CONNECT`);
    }
    switch (packet.cmd) {
      case 'publish':
        return this.onPublish(session, packet);
      case 'puback':
        session.acknowledge(packet.messageId ?? 0, Date.now());
        return;
      case 'subscribe':
        return this.onSubscribe(session, packet);
      case 'unsubscribe':
        return this.onUnsubscribe(session, packet);
      case 'pingreq':
        return this.send({ cmd: 'pingresp' });
      case 'disconnect':
        return this.onDisconnect(session, packet);
      default:
        // A second CONNECT, QoS 2 flow packets (QoS 2 is refused), AUTH, or server-to-client packets.
        return this.fail(ReasonCode.ProtocolError, `unexpected ${packet.cmd.toUpperCase()}`);
    }
  }

  private onConnect(packet: IConnectPacket): void {
    if (packet.protocolVersion !== 5) {
      // A 3.1.1 client understands only its own CONNACK: return code 1, unacceptable protocol version.
      this.write(generate({ cmd: 'connack', returnCode: V4_UNACCEPTABLE_PROTOCOL_VERSION, sessionPresent: false }, { protocolVersion: 4 }));
      return this.refused(`MQTT protocol version ${packet.protocolVersion} (only MQTT 5 is supported)`);
    }
    const properties = packet.properties ?? {};
    if (properties.authenticationMethod !== undefined) {
      return this.refuse(ReasonCode.BadAuthenticationMethod, `enhanced authentication (${properties.authenticationMethod}) is not supported`);
    }
    if (properties.receiveMaximum === 0) return this.refuse(ReasonCode.ProtocolError, 'Receive Maximum 0');
    const will = packet.will;
    if (will) {
      if (will.qos === 2) return this.refuse(ReasonCode.QoSNotSupported, 'will QoS 2: the maximum QoS is 1');
      if (!validTopicName(will.topic)) return this.refuse(ReasonCode.TopicNameInvalid, `will topic ${JSON.stringify(will.topic)} is not a topic name`);
      const { willDelayInterval, ...willProperties } = will.properties ?? {};
      this.will = {
        message: { topic: will.topic, payload: will.payload, qos: will.qos ?? 0, retain: will.retain ?? false, properties: willProperties },
        delayS: willDelayInterval ?? 0,
      };
    }
    this.receiveMaximum = properties.receiveMaximum ?? 0xffff;
    this.maximumPacketSize = properties.maximumPacketSize ?? Infinity;
    const assignedId = packet.clientId === '' ? `embedded-${randomUUID()}` : undefined;
    const clientId = assignedId ?? packet.clientId;
    const requestedExpiryS = properties.sessionExpiryInterval ?? 0;
    const expiryS = Math.min(requestedExpiryS, this.settings.maxSessionExpiryS);
    const { session, sessionPresent } = this.router.open(clientId, packet.clean ?? true, expiryS, this);
    this.session = session;
    this.who = `${clientId} (${this.who})`;
    this.startKeepalive(packet.keepalive ?? 0);
    this.send({
      cmd: 'connack',
      reasonCode: ReasonCode.Success,
      sessionPresent,
      properties: {
        receiveMaximum: this.settings.receiveMaximum,
        topicAliasMaximum: this.settings.topicAliasMaximum,
        maximumQoS: 1,
        retainAvailable: true,
        wildcardSubscriptionAvailable: true,
        sharedSubscriptionAvailable: true,
        subscriptionIdentifiersAvailable: false,
        maximumPacketSize: this.settings.maxPacketBytes,
        ...(assignedId !== undefined ? { assignedClientIdentifier: assignedId } : {}),
        ...(expiryS !== requestedExpiryS ? { sessionExpiryInterval: expiryS } : {}),
      },
    });
    session.resume(Date.now());
  }

  private onPublish(session: Session, packet: IPublishPacket): void {
    const qos = packet.qos;
    if (qos === 2) return this.fail(ReasonCode.QoSNotSupported, 'QoS 2 publish: the maximum QoS is 1');
    let topic = packet.topic;
    const alias = packet.properties?.topicAlias;
    if (alias !== undefined) {
      if (alias === 0 || alias > this.settings.topicAliasMaximum) {
        return this.fail(ReasonCode.TopicAliasInvalid, `topic alias ${alias} is not in 1..${this.settings.topicAliasMaximum}`);
      }
      if (topic) this.topicAliases.set(alias, topic);
      else {
        const known = this.topicAliases.get(alias);
        if (known === undefined) return this.fail(ReasonCode.ProtocolError, `topic alias ${alias} was never set`);
        topic = known;
      }
    }
    if (!validTopicName(topic)) return this.fail(ReasonCode.TopicNameInvalid, `topic ${JSON.stringify(topic)} is not a topic name`);
    const message = brokerMessage({ topic, payload: packet.payload, qos, retain: packet.retain, properties: packet.properties }, Date.now());
    const matched = this.router.publish(message, session);
    if (qos === 1) {
      this.send({ cmd: 'puback', messageId: packet.messageId, reasonCode: matched > 0 ? ReasonCode.Success : ReasonCode.NoMatchingSubscribers });
    }
  }

  private onSubscribe(session: Session, packet: ISubscribePacket): void {
    if (packet.properties?.subscriptionIdentifier !== undefined) {
      const granted = packet.subscriptions.map(() => ReasonCode.SubscriptionIdentifiersNotSupported);
      return this.send({ cmd: 'suback', messageId: packet.messageId, granted });
    }
    const results = packet.subscriptions.map((s) =>
      this.router.subscribe(session, s.topic, {
        qos: s.qos === 0 ? 0 : 1, // QoS 2 requested: granted 1
        noLocal: s.nl ?? false,
        retainAsPublished: s.rap ?? false,
        retainHandling: (s.rh ?? 0) as 0 | 1 | 2,
      }),
    );
    this.send({ cmd: 'suback', messageId: packet.messageId, granted: results.map((r) => r.code) });
    for (const result of results) this.router.sendRetained(session, result);
  }

  private onUnsubscribe(session: Session, packet: IUnsubscribePacket): void {
    const granted = packet.unsubscriptions.map((filter) => this.router.unsubscribe(session, filter));
    this.send({ cmd: 'unsuback', messageId: packet.messageId, granted });
  }

  private onDisconnect(session: Session, packet: IDisconnectPacket): void {
    const expiryS = packet.properties?.sessionExpiryInterval;
    if (expiryS !== undefined) {
      if (session.expiryS === 0 && expiryS > 0) return this.fail(ReasonCode.ProtocolError, 'session expiry set on DISCONNECT when CONNECT had none');
      session.expiryS = Math.min(expiryS, this.settings.maxSessionExpiryS);
    }
    this.close(packet.reasonCode === ReasonCode.DisconnectWithWill);
  }

  // --- keep-alive, errors, closing -------------------------------------------------------------------

  /** The client must send something every keep-alive interval; after 1.5 times that, it is gone (§3.1.2.10). */
  private startKeepalive(keepaliveS: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (keepaliveS > 0) {
      this.timer = setTimeout(() => this.fail(ReasonCode.KeepAliveTimeout, `nothing received for 1.5 x ${keepaliveS} s keep-alive`), keepaliveS * 1500);
    }
  }

  private malformed(why: string): void {
    if (this.closed) return;
    this.router.counters.malformedPackets++;
    this.disconnect(ReasonCode.MalformedPacket, `malformed packet: ${why}`);
  }

  /** A protocol violation (or timeout) by the client: DISCONNECT with `reasonCode` and close, will published. */
  private fail(reasonCode: number, why: string): void {
    if (this.closed) return;
    if (reasonCode !== ReasonCode.KeepAliveTimeout) this.router.counters.protocolErrors++;
    this.disconnect(reasonCode, why);
  }

  private disconnect(reasonCode: number, why: string): void {
    this.settings.log(`embedded broker: closing ${this.who}: ${why}`);
    if (this.session) this.send({ cmd: 'disconnect', reasonCode, properties: { reasonString: why } });
    this.close(true);
  }

  /** CONNECT refused with a CONNACK reason code. */
  private refuse(reasonCode: number, why: string): void {
    this.send({ cmd: 'connack', reasonCode, sessionPresent: false, properties: { reasonString: why } });
    this.refused(why);
  }

  private refused(why: string): void {
    this.router.counters.refusedConnections++;
    this.settings.log(`embedded broker: refused ${this.who}: ${why}`);
    this.close(false);
  }

  private close(publishWill: boolean): void {
    this.finish(publishWill);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** Once per connection: stop the timer, leave the session (the router publishes the will if asked). */
  private finish(publishWill: boolean): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.onClosed(this);
    if (this.session) this.router.detach(this.session, this, publishWill ? this.will : undefined);
  }

  private send(packet: Packet): void {
    this.write(generate(packet, V5));
  }

  private write(bytes: Buffer): void {
    if (!this.socket.writable) return;
    this.router.counters.bytesOut += bytes.length;
    this.socket.write(bytes);
  }
}
