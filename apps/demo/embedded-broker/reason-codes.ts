/** The MQTT 5 reason codes the embedded broker sends (MQTT 5 §2.4). */
export const ReasonCode = {
  Success: 0x00,
  GrantedQoS1: 0x01,
  DisconnectWithWill: 0x04,
  NoMatchingSubscribers: 0x10,
  NoSubscriptionExisted: 0x11,
  MalformedPacket: 0x81,
  ProtocolError: 0x82,
  ImplementationSpecificError: 0x83,
  BadAuthenticationMethod: 0x8c,
  ServerShuttingDown: 0x8b,
  KeepAliveTimeout: 0x8d,
  SessionTakenOver: 0x8e,
  TopicFilterInvalid: 0x8f,
  TopicNameInvalid: 0x90,
  TopicAliasInvalid: 0x94,
  PacketTooLarge: 0x95,
  QoSNotSupported: 0x9b,
  SubscriptionIdentifiersNotSupported: 0xa1,
} as const;

/** MQTT 3.1.1 CONNACK return code: the server does not support the client's protocol level. */
export const V4_UNACCEPTABLE_PROTOCOL_VERSION = 0x01;
