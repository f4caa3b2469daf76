/**
 * The backend side of a remote command: build a CommandRequest (fresh id and nonce, issue and
 * expiry times), sign its bytes with an Ed25519 private key, publish the SignedCommand on
 * roadlink/v1/{vin}/cmd/req (QoS 1) and follow the vehicle's CommandResponses for that id on
 * .../cmd/res until a final state. Used by `roadlink command send` and, in-process, by the demo.
 * signRulesUpdate() signs a RulesUpdate the same way (topic .../rules).
 */
import { randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import mqtt from 'mqtt';
import { CommandRequest, CommandResponse, CommandState, RulesUpdate, SignedCommand, SignedRulesUpdate, type IRulesUpdate } from '../proto/gen/roadlink.js';
import { brokerClientOptions, type BrokerOptions } from '../wire/broker-options.js';
import { pack, publishProperties, unpack } from '../wire/payload.js';
import { topicFor } from '../wire/topics.js';
import { parsePrivateKey, signBytes } from '../wire/command-keys.js';

export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
}

export interface CommandSpec {
  vin: string;
  name: string;
  args?: Record<string, string>;
  /** Validity from issue to expiry. Default 30 s. */
  ttlMs?: number;
  /** Default: a random UUID. */
  id?: string;
  /** Default: now. */
  issuedAtMs?: number;
  /** Default: 16 random bytes. */
  nonce?: Uint8Array;
}

/**
 * Reads a PEM private key file. The key id defaults to the file name without `.key.pem` / `.pem`
 * (what `roadlink keys generate --name NAME` writes and configures as id NAME).
 */
export function loadSigningKey(path: string, keyId?: string): SigningKey {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read key file ${path}: ${(error as Error).message}`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = parsePrivateKey(pem);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  return { keyId: keyId ?? basename(path).replace(/(\.key)?\.pem$/, ''), privateKey };
}

/** A signed command: the request as sent and the SignedCommand bytes to publish. */
export function signCommand(spec: CommandSpec, key: SigningKey): { request: CommandRequest; bytes: Uint8Array } {
  const issuedAtMs = spec.issuedAtMs ?? Date.now();
  const request = CommandRequest.create({
    id: spec.id ?? randomUUID(),
    vin: spec.vin,
    name: spec.name,
    args: spec.args ?? {},
    issuedAtMs,
    expiresAtMs: issuedAtMs + (spec.ttlMs ?? 30_000),
    nonce: spec.nonce ?? randomBytes(16),
  });
  const body = CommandRequest.encode(request).finish();
  const bytes = SignedCommand.encode({ request: body, signature: signBytes(key.privateKey, body), keyId: key.keyId }).finish();
  return { request, bytes };
}

/** SignedRulesUpdate bytes for topic .../rules (issued_at_ms defaults to now). */
export function signRulesUpdate(update: IRulesUpdate, key: SigningKey): Uint8Array {
  const body = RulesUpdate.encode(RulesUpdate.create({ issuedAtMs: Date.now(), ...update })).finish();
  return SignedRulesUpdate.encode({ update: body, signature: signBytes(key.privateKey, body), keyId: key.keyId }).finish();
}

export function isFinalState(state: CommandState): boolean {
  return state !== CommandState.COMMAND_STATE_IN_PROGRESS && state !== CommandState.COMMAND_STATE_UNSPECIFIED;
}

export interface SendCommandOptions {
  broker: BrokerOptions;
  key: SigningKey;
  command: CommandSpec;
  /** How long to wait for a final response after publishing. Default 20 s. */
  timeoutMs?: number;
  /** Every response for the command's id, in arrival order. */
  onResponse?: (response: CommandResponse) => void;
  /** MQTT client id. Default: a random one (clean session). */
  clientId?: string;
}

export interface SendOutcome {
  id: string;
  responses: CommandResponse[];
  /** The final response; undefined when none came within the timeout. */
  final?: CommandResponse;
}

/** Publishes a signed command and waits for its final response (or the timeout). Throws on broker errors. */
export async function sendCommand(options: SendCommandOptions): Promise<SendOutcome> {
  const { request, bytes } = signCommand(options.command, options.key);
  const responseTopic = topicFor(options.command.vin, 'cmd/res');
  const outcome: SendOutcome = { id: request.id, responses: [] };
  const client = mqtt.connect({
    ...brokerClientOptions(options.broker),
    clientId: options.clientId ?? `roadlink-cmd-${randomBytes(6).toString('hex')}`,
    clean: true,
  });
  try {
    client.on('error', () => {}); // connect() reports errors while connecting; later ones show as a missing response
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    client.on('message', (topic, payload, packet) => {
      if (topic !== responseTopic) return;
      let response: CommandResponse;
      try {
        response = CommandResponse.decode(unpack(payload, packet.properties));
      } catch {
        return; // not ours to judge: other vehicles' tools may share the topic
      }
      if (response.id !== request.id) return;
      outcome.responses.push(response);
      options.onResponse?.(response);
      if (isFinalState(response.state)) {
        outcome.final = response;
        finish();
      }
    });
    await connect(client, options.broker.connectTimeoutMs ?? 15_000);
    await client.subscribeAsync(responseTopic, { qos: 1 });
    const packed = pack(bytes, false);
    await client.publishAsync(topicFor(options.command.vin, 'cmd/req'), packed.payload, { qos: 1, properties: publishProperties(packed) });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([finished, new Promise<void>((resolve) => (timer = setTimeout(resolve, options.timeoutMs ?? 20_000)))]);
    clearTimeout(timer);
    return outcome;
  } finally {
    await client.endAsync(!client.connected);
  }
}

function connect(client: mqtt.MqttClient, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no connection to the broker within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      client.removeListener('connect', ok);
      reject(error);
    };
    const ok = (): void => {
      clearTimeout(timer);
      client.removeListener('error', fail);
      resolve();
    };
    client.once('connect', ok);
    client.once('error', fail);
    client.connect();
  });
}
