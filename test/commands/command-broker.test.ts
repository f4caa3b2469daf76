/**
 * End to end over a real mosquitto: `roadlink keys generate` makes the key, the vehicle's config
 * trusts its printed public key line, `roadlink command send` (and its in-process form) publishes a
 * signed command, the agent's Uplink hands it to the CommandProcessor, which drives the simulated
 * ECU, and the responses travel back over the broker to the sender.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandState } from '../../proto/gen/roadlink.js';
import { loadSigningKey, sendCommand, signCommand } from '../../backend/command-client.js';
import { CommandResponse } from '../../proto/gen/roadlink.js';
import { runCommandSend } from '../../apps/cli/command-send.js';
import { runKeys } from '../../apps/cli/keys.js';
import { Uplink } from '../../agent/uplink/uplink.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../uplink/fixtures.js';
import { Capture, Harness, VIN, type TestKey } from './fixtures.js';


let broker: Mosquitto;
let keyDir = '';
let harness: Harness;
let uplink: Uplink;
let keyFile = '';

beforeAll(async () => {
  broker = await Mosquitto.start();
  keyDir = mkdtempSync(join(tmpdir(), 'roadlink-keys-'));
  const out = new Capture();
  expect(await runKeys(['generate', '--out', keyDir, '--name', 'ops-backend'], { stdout: out, stderr: new Capture() })).toBe(0);
  keyFile = join(keyDir, 'ops-backend.key.pem');
  expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  // The public key as the printed config line gives it.
  const publicKey = /public_key: "([^"]+)"/.exec(out.text)![1];
  const key = { ...loadSigningKey(keyFile), publicKey } satisfies TestKey;
  expect(key.keyId).toBe('ops-backend');

  let started: Uplink | undefined;
  harness = Harness.create({ keys: [{ key }] }, { publish: (bytes) => started!.publishCommandResponse(bytes) });
  uplink = started = new Uplink({ vin: VIN, broker: { url: broker.url }, store: harness.store, checkin: () => ({}), log: () => {} });
  uplink.onCommand((bytes) => harness.processor.handle(bytes).then(() => undefined));
  uplink.start();
  await waitFor(() => uplink.stats().connected, 'uplink connected');
  // The subscription is in place once a message on cmd/req arrives (garbage: counted, not handled).
  const probe = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'probe' });
  await probe.publishAsync(`roadlink/v1/${VIN}/cmd/req`, Buffer.from('probe'), { qos: 1 });
  await waitFor(() => uplink.stats().badMessages === 1, 'the probe on cmd/req');
  await probe.endAsync();
  harness.vehicle.park();
});

afterAll(async () => {
  await uplink?.stop();
  harness?.dispose();
  await broker?.stop();
  rmSync(keyDir, { recursive: true, force: true });
});

describe('commands over a real broker', () => {
  it('sendCommand → broker → uplink → processor → ECU, responses back: IN_PROGRESS then SUCCEEDED', async () => {
    const seen: CommandState[] = [];
    const outcome = await sendCommand({
      broker: { url: broker.url },
      key: loadSigningKey(keyFile),
      command: { vin: VIN, name: 'door_lock' },
      timeoutMs: 10_000,
      onResponse: (r) => seen.push(r.state),
    });
    expect(outcome.final?.state).toBe(CommandState.COMMAND_STATE_SUCCEEDED);
    expect(seen).toEqual([CommandState.COMMAND_STATE_IN_PROGRESS, CommandState.COMMAND_STATE_SUCCEEDED]);
    expect(harness.vehicle.ecu.sentRequests().at(-1)).toMatchObject({ message: 'TCU_BODY_REQUEST', values: { LockRequest: 2 } });
  });

  it('`roadlink command send` prints each state as a JSON line and exits 0 on SUCCEEDED', async () => {
    const stdout = new Capture();
    const stderr = new Capture();
    const framesBefore = harness.vehicle.ecu.sent.length;
    const code = await runCommandSend(
      ['send', '--broker', broker.url, '--vin', VIN, '--key', keyFile, '--ttl', '20s', '--timeout', '10s', 'preconditioning_on', 'target_temp_c=19.5'],
      { stdout, stderr },
    );
    expect(stderr.text).toBe('');
    expect(code).toBe(0);
    const lines = stdout.text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    expect(lines.map((l) => l.state)).toEqual(['IN_PROGRESS', 'SUCCEEDED']);
    expect(new Set(lines.map((l) => l.id)).size).toBe(1);
    expect(harness.vehicle.ecu.sent.length).toBe(framesBefore + 1);
    expect(harness.vehicle.ecu.sentRequests().at(-1)!.values.TargetTemperature).toBe(19.5);
  });

  it('exits non-zero with the REJECTED line when the vehicle refuses (wrong key id)', async () => {
    const stdout = new Capture();
    const framesBefore = harness.vehicle.ecu.sent.length;
    const code = await runCommandSend(['send', '--broker', broker.url, '--vin', VIN, '--key', keyFile, '--key-id', 'someone-else', 'horn'], {
      stdout,
      stderr: new Capture(),
    });
    expect(code).toBe(1);
    expect(JSON.parse(stdout.text.trim())).toMatchObject({ state: 'REJECTED', reason: 'unknown_key' });
    expect(harness.vehicle.ecu.sent.length).toBe(framesBefore);
  });

  it('a burst beyond max_in_progress is REJECTED busy over the broker, not queued: two commands run, the rest never reach the bus', async () => {
    const backend = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'burst-sender' });
    const responses = new Map<string, CommandResponse[]>();
    backend.on('message', (_topic, payload) => {
      const r = CommandResponse.decode(payload);
      responses.set(r.id, [...(responses.get(r.id) ?? []), r]);
    });
    await backend.subscribeAsync(`roadlink/v1/${VIN}/cmd/res`, { qos: 1 });
    harness.vehicle.ecu.answering = false; // the two accepted commands stay in progress
    const framesBefore = harness.vehicle.ecu.sent.length;
    const rejectedBefore = harness.processor.stats().byReason.busy ?? 0;
    const key = loadSigningKey(keyFile);
    const names = ['horn', 'lights_flash', ...Array.from({ length: 40 }, (_, i) => (i % 2 ? 'door_lock' : 'preconditioning_on'))];
    const ids: string[] = [];
    for (const name of names) {
      const { request, bytes } = signCommand({ vin: VIN, name, ttlMs: 20_000 }, key);
      ids.push(request.id);
      await backend.publishAsync(`roadlink/v1/${VIN}/cmd/req`, Buffer.from(bytes), { qos: 1 });
    }
    await waitFor(() => ids.every((id) => responses.has(id)), 'a response to every command of the burst');
    expect(ids.slice(0, 2).map((id) => responses.get(id)![0].state)).toEqual([CommandState.COMMAND_STATE_IN_PROGRESS, CommandState.COMMAND_STATE_IN_PROGRESS]);
    for (const id of ids.slice(2)) expect(responses.get(id)).toMatchObject([{ state: CommandState.COMMAND_STATE_REJECTED, reason: 'busy' }]);
    expect(harness.processor.inProgress).toBe(2);
    expect(harness.processor.stats().byReason.busy).toBe(rejectedBefore + 40);
    expect(harness.vehicle.ecu.sent.length).toBe(framesBefore + 2);
    await waitFor(() => uplink.stats().controlPending === 0, 'every response acknowledged by the broker');
    harness.vehicle.ecu.answering = true;
    harness.vehicle.park();
    await waitFor(() => harness.processor.inProgress === 0, 'the two commands to end', 10_000);
    await backend.endAsync();
  }, 30_000);

  it('reports usage errors with exit status 2', async () => {
    const stderr = new Capture();
    expect(await runCommandSend(['send', '--vin', VIN, '--key', keyFile, 'horn'], { stdout: new Capture(), stderr })).toBe(2);
    expect(stderr.text).toContain('--broker URL is required');
    expect(await runCommandSend(['send', '--broker', broker.url, '--vin', VIN, '--key', keyFile, 'horn', 'loud'], { stdout: new Capture(), stderr })).toBe(2);
    expect(stderr.text).toContain("argument 'loud' is not ARG=VALUE");
    expect(await runCommandSend(['send', '--broker', broker.url, '--vin', VIN, '--key', join(keyDir, 'missing.pem'), 'horn'], { stdout: new Capture(), stderr })).toBe(2);
    expect(stderr.text).toContain('cannot read key file');
  });
});
