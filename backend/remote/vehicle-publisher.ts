/**
 * Publishes backend → vehicle messages (signed commands on .../cmd/req, signed rules updates on
 * .../rules) over one MQTT 5 connection, QoS 1: resolves after the broker's PUBACK, so a vehicle
 * with a persistent session gets it even while offline.
 */
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { brokerClientOptions, type BrokerOptions } from '../../wire/broker-options.js';
import { pack, publishProperties } from '../../wire/payload.js';
import { topicFor, type DownKind } from '../../wire/topics.js';

export interface VehiclePublisher {
  publish(vin: string, kind: DownKind, bytes: Uint8Array): Promise<void>;
}

/** The broker refused or is unreachable: the API answers 503. */
export class PublishError extends Error {
  override name = 'PublishError';
}

export class MqttVehiclePublisher implements VehiclePublisher {
  private readonly client: mqtt.MqttClient;

  constructor(
    broker: BrokerOptions,
    private readonly timeoutMs = 10_000,
  ) {
    // A long-lived connection: reconnects by itself (the shared options are for one-shot tools).
    this.client = mqtt.connect({
      ...brokerClientOptions(broker),
      manualConnect: false,
      reconnectPeriod: 2000,
      clientId: `roadlink-api-${randomBytes(6).toString('hex')}`,
      clean: true,
    });
    this.client.on('error', () => {}); // shows as a failed publish
  }

  async publish(vin: string, kind: DownKind, bytes: Uint8Array): Promise<void> {
    const packed = pack(bytes, false);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PublishError(`no PUBACK from the broker within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      await Promise.race([this.client.publishAsync(topicFor(vin, kind), packed.payload, { qos: 1, properties: publishProperties(packed) }), timeout]);
    } catch (error) {
      throw error instanceof PublishError ? error : new PublishError(`cannot publish to the broker: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
