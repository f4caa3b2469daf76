/**
 * Remote actions: records the command (state PENDING), signs it with the backend's Ed25519 key and
 * publishes it on roadlink/v1/{vin}/cmd/req. Its state then follows the vehicle's cmd/res, which the
 * ingest writes to the store. The private key never leaves this object.
 */
import { randomUUID } from 'node:crypto';
import type { BackendStore, CommandRecord } from '../db/backend-store.js';
import { signCommand, type SigningKey } from '../command-client.js';
import { COMMAND_TTL_MS } from '../api/representations.js';
import type { VehiclePublisher } from './vehicle-publisher.js';

export interface RemoteActionRequest {
  vin: string;
  action: string;
  args: Record<string, string>;
}

export class RemoteControl {
  constructor(
    private readonly store: BackendStore,
    private readonly publisher: VehiclePublisher,
    private readonly key: SigningKey,
    private readonly now: () => number = Date.now,
  ) {}

  async send(request: RemoteActionRequest): Promise<CommandRecord> {
    const createdMs = this.now();
    const id = randomUUID();
    const record = await this.store.createCommand({ id, vin: request.vin, action: request.action, args: request.args, createdMs });
    const { bytes } = signCommand({ vin: request.vin, name: request.action, args: request.args, id, issuedAtMs: createdMs, ttlMs: COMMAND_TTL_MS }, this.key);
    await this.publisher.publish(request.vin, 'cmd/req', bytes);
    return record;
  }
}
