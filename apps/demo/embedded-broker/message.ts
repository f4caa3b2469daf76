/**
 * An application message inside the broker (from a PUBLISH or a will), shared by every subscriber
 * it goes to, and the PUBLISH packet that delivers it to one subscriber.
 *
 * Forwarded unchanged (MQTT 5 §3.3.2.3): payload format indicator, content type, response topic,
 * correlation data, user properties. The message expiry interval is forwarded as the time left;
 * an expired message is not delivered. The topic alias belongs to one connection and is dropped.
 */
import type { IPublishPacket } from 'mqtt-packet';

type PublishProperties = NonNullable<IPublishPacket['properties']>;
export type ForwardedProperties = Pick<PublishProperties, 'payloadFormatIndicator' | 'contentType' | 'responseTopic' | 'correlationData' | 'userProperties'>;

export interface BrokerMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1;
  /** The RETAIN flag as published. */
  readonly retain: boolean;
  readonly properties: ForwardedProperties | undefined;
  /** Date.now() after which the message must not be delivered; undefined: never expires. */
  readonly expiresAtMs: number | undefined;
}

/** What the broker takes over from a PUBLISH or a will (topic already resolved from an alias). */
export interface PublishedMessage {
  topic: string;
  payload: Buffer | string;
  qos: 0 | 1;
  retain: boolean;
  properties?: PublishProperties & { willDelayInterval?: number };
}

export function brokerMessage(published: PublishedMessage, nowMs: number): BrokerMessage {
  const p = published.properties;
  let properties: ForwardedProperties | undefined;
  if (p) {
    properties = {};
    if (p.payloadFormatIndicator !== undefined) properties.payloadFormatIndicator = p.payloadFormatIndicator;
    if (p.contentType !== undefined) properties.contentType = p.contentType;
    if (p.responseTopic !== undefined) properties.responseTopic = p.responseTopic;
    if (p.correlationData !== undefined) properties.correlationData = p.correlationData;
    if (p.userProperties !== undefined) properties.userProperties = p.userProperties;
  }
  return {
    topic: published.topic,
    payload: typeof published.payload === 'string' ? Buffer.from(published.payload) : published.payload,
    qos: published.qos,
    retain: published.retain,
    properties,
    expiresAtMs: p?.messageExpiryInterval !== undefined ? nowMs + p.messageExpiryInterval * 1000 : undefined,
  };
}

export function isExpired(message: BrokerMessage, nowMs: number): boolean {
  return message.expiresAtMs !== undefined && nowMs >= message.expiresAtMs;
}

export interface Delivery {
  qos: 0 | 1;
  /** RETAIN flag on the wire: set for retained messages sent on subscribe, or with Retain As Published. */
  retain: boolean;
  messageId?: number;
  dup?: boolean;
}

/** The PUBLISH packet delivering `message` to one subscriber, or undefined when it has expired. */
export function publishPacket(message: BrokerMessage, delivery: Delivery, nowMs: number): IPublishPacket | undefined {
  let properties: PublishProperties | undefined = message.properties;
  if (message.expiresAtMs !== undefined) {
    const leftS = Math.ceil((message.expiresAtMs - nowMs) / 1000);
    if (leftS <= 0) return undefined;
    properties = { ...properties, messageExpiryInterval: leftS };
  }
  return {
    cmd: 'publish',
    topic: message.topic,
    payload: message.payload,
    qos: delivery.qos,
    retain: delivery.retain,
    dup: delivery.dup ?? false,
    messageId: delivery.messageId,
    properties,
  };
}
