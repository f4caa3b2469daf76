/**
 * The agent under hostile downlink input, against a real mosquitto: the demo vehicle (its drive
 * replayed in a loop) receives deflate bombs and oversize payloads on cmd/req and rules. Each is
 * refused and counted with its reason, no command runs, and the agent goes on decoding and uploading;
 * a genuine command afterwards is still answered.
 */
import { deflateRawSync } from 'node:zlib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/runtime/agent.js';
import { signCommand, signRulesUpdate } from '../../backend/command-client.js';
import { CommandResponse } from '../../proto/gen/roadlink.js';
import { parsePrivateKey } from '../../wire/command-keys.js';
import { DOWNLINK_MAX_BYTES, DOWNLINK_MAX_PACKET_BYTES } from '../../wire/payload.js';
import { demoFolder } from '../helpers/demo-config.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { loadConfig } from '../../agent/config/load-config.js';
import { waitFor } from '../uplink/fixtures.js';

const DEFLATED = { userProperties: { 'content-encoding': 'deflate-raw' } };

describe('downlink limits of the running agent', () => {
  let broker: Mosquitto;
  let agent: Agent;
  let backend: mqtt.MqttClient;
  let keyPem = '';
  let vin = '';
  const responses: CommandResponse[] = [];
  const topic = (kind: string) => `roadlink/v1/${vin}/${kind}`;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    const demo = demoFolder((yaml) => yaml.replace(/speed: 30\b/, 'speed: 30\n    loop: true'));
    keyPem = demo.keyPem;
    const config = loadConfig(demo.config);
    config.uplink!.broker = broker.url;
    vin = config.vehicle.vin;
    agent = await Agent.start(config, { log: () => undefined });
    backend = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'hostile-backend' });
    backend.on('message', (_t, payload) => responses.push(CommandResponse.decode(payload)));
    await backend.subscribeAsync(topic('cmd/res'), { qos: 1 });
    await waitFor(() => agent.uplink!.stats().connected, 'the agent to connect');
    // Subscriptions in place: a probe on cmd/req is refused (malformed) and counted.
    await backend.publishAsync(topic('cmd/req'), Buffer.from('probe'), { qos: 1 });
    await waitFor(() => agent.uplink!.stats().downlinkRefused.malformed === 1, 'the probe');
  }, 30_000);

  afterAll(async () => {
    await backend?.endAsync();
    await agent?.stop();
    await broker?.dispose();
  });

  it('refuses deflate bombs and oversize payloads on cmd/req and rules with counted reasons; runs nothing; keeps uploading', async () => {
    const key = { keyId: 'demo-backend', privateKey: parsePrivateKey(keyPem) };
    const command = signCommand({ vin, name: 'horn' }, key).bytes;
    const rules = signRulesUpdate({ vin, version: 7, patch: true, rulesJson: '{}' }, key);
    // Bombs: a genuinely signed message followed by zeros, small enough on the wire to pass the size
    // check (about 1 KiB per MiB): 4 MiB once inflated on cmd/req, 64 MiB on rules.
    const bomb = (signed: Uint8Array, mib: number) => deflateRawSync(Buffer.concat([signed, Buffer.alloc(mib * 1024 * 1024)]), { level: 9 });
    const padded = (signed: Uint8Array, size: number) => Buffer.concat([signed, Buffer.alloc(size - signed.length, 0x20)]);
    const before = agent.uplink!.stats();
    const commandsBefore = agent.commands!.stats().received;
    const rulesVersion = agent.rulesUpdater!.activeVersion;

    await backend.publishAsync(topic('cmd/req'), bomb(command, 4), { qos: 1, properties: DEFLATED });
    await backend.publishAsync(topic('rules'), bomb(rules, 64), { qos: 1, properties: DEFLATED });
    await backend.publishAsync(topic('cmd/req'), padded(command, DOWNLINK_MAX_BYTES['cmd/req'] + 1), { qos: 1 });
    await backend.publishAsync(topic('rules'), padded(rules, DOWNLINK_MAX_BYTES.rules + 1), { qos: 1 });
    // Beyond the Maximum Packet Size the agent announced: the broker drops it, the agent never sees it.
    await backend.publishAsync(topic('cmd/req'), padded(command, DOWNLINK_MAX_PACKET_BYTES + 1), { qos: 1 });
    const good = signCommand({ vin, name: 'horn', issuedAtMs: Date.now() - 600_000 }, key);
    await backend.publishAsync(topic('cmd/req'), Buffer.from(good.bytes), { qos: 1 });

    await waitFor(() => responses.some((r) => r.id === good.request.id), 'the answer to the command sent after the attack');
    const after = agent.uplink!.stats();
    expect(after.downlinkRefused).toEqual({ malformed: 1, inflate_bound: 2, oversize: 2 });
    expect(after.receivedMessages - before.receivedMessages).toBe(5); // the dropped one never arrived
    expect(after.connects).toBe(before.connects); // no disconnect
    // Nothing but the genuine (expired) command reached the command path, and it was refused.
    expect(agent.commands!.stats().received - commandsBefore).toBe(1);
    expect(responses.find((r) => r.id === good.request.id)).toMatchObject({ reason: 'expired' });
    expect(agent.commands!.stats().accepted).toBe(0);
    expect(agent.rulesUpdater!.activeVersion).toBe(rulesVersion);

    // Still decoding and uploading.
    const frames = agent.stats().frames;
    const acked = after.ackedRows;
    agent.uplink!.wake();
    await waitFor(() => agent.stats().frames > frames && agent.uplink!.stats().ackedRows > acked, 'frames decoded and rows uploaded after the attack');
  }, 60_000);
});
