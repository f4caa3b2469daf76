/**
 * A fresh embedded broker for every test (it starts in a millisecond, so tests share no state), and
 * real mqtt.js MQTT 5 clients that are ended after the test.
 */
import { afterEach, beforeEach } from 'vitest';
import mqtt, { type IClientOptions, type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt';
import { EmbeddedBroker, type EmbeddedBrokerOptions } from '../../../apps/demo/embedded-broker/index.js';
import { RawClient } from './raw-client.js';

export interface Received {
  topic: string;
  payload: string;
  packet: IPublishPacket;
}

export interface TestClient {
  client: MqttClient;
  connack: IConnackPacket;
  /** Every message received since the client was created (handlers are attached before CONNECT). */
  messages: Received[];
}

export function brokerPerTest(options: EmbeddedBrokerOptions = {}) {
  const fixture = {
    broker: undefined as unknown as EmbeddedBroker,
    cleanups: [] as (() => unknown)[],
    logged: [] as string[],

    /** Connects an mqtt.js MQTT 5 client (no automatic reconnect), collecting its messages. */
    async client(clientOptions: IClientOptions = {}): Promise<TestClient> {
      const client = mqtt.connect(fixture.broker.url, { protocolVersion: 5, reconnectPeriod: 0, ...clientOptions });
      fixture.cleanups.push(() => client.endAsync(true));
      const messages: Received[] = [];
      client.on('message', (topic, payload, packet) => messages.push({ topic, payload: payload.toString(), packet }));
      const connack = await new Promise<IConnackPacket>((resolve, reject) => {
        client.once('connect', resolve);
        client.once('error', reject);
      });
      return { client, connack, messages };
    },

    /** A bare client; `connect` given: past CONNACK. */
    async raw(connect?: Parameters<typeof RawClient.connected>[1]): Promise<RawClient> {
      const raw = connect ? await RawClient.connected(fixture.broker.port, connect) : await RawClient.open(fixture.broker.port);
      fixture.cleanups.push(() => raw.destroy());
      return raw;
    },
  };
  beforeEach(async () => {
    fixture.logged.length = 0;
    fixture.broker = await EmbeddedBroker.start({ ...options, log: (message) => fixture.logged.push(message) });
  });
  afterEach(async () => {
    for (const cleanup of fixture.cleanups.splice(0).reverse()) await cleanup();
    await fixture.broker.close();
  });
  return fixture;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
