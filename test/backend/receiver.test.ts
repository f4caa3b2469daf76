/**
 * The backend reference receiver and `roadlink backend` against a real mosquitto: garbage handling,
 * shared subscriptions across two receivers, gap reports, and the CLI's output file and summary.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Receiver } from '../../backend/receiver.js';
import { runBackend } from '../../apps/cli/backend.js';
import { SampleChunkEncoder } from '../../wire/sample-chunk.js';
import { Checkin, Event, Priority } from '../../proto/gen/roadlink.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { lineCollector, SIGNALS, VIN_A, VIN_B, waitFor } from '../uplink/fixtures.js';

const quiet = () => undefined;

/** A SampleBatch of `count` Vehicle.Speed samples (raw 100 + i, every 100 ms) starting at `firstSeq`. */
function speedBatch(firstSeq: number, count: number): Buffer {
  const signal = new Uint32Array(count).fill(1);
  const time = Float64Array.from({ length: count }, (_, i) => Date.UTC(2026, 0, 15, 8) + i * 100);
  const raw = Float64Array.from({ length: count }, (_, i) => 100 + i);
  return Buffer.from(new SampleChunkEncoder().encodeArrivals({ firstSeq, priority: Priority.PRIORITY_NORMAL, rule: 'base' }, count, signal, time, raw));
}

describe('backend receiver', () => {
  let broker: Mosquitto;
  let vehicle: MqttClient;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    broker = await Mosquitto.start();
    vehicle = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'fake-vehicle' });
    // Retained checkins, as the uplink sends them: every receiver gets them when it subscribes.
    for (const vin of [VIN_A, VIN_B]) {
      await vehicle.publishAsync(`roadlink/v1/${vin}/checkin`, Buffer.from(Checkin.encode({ vin, signals: SIGNALS }).finish()), { qos: 1, retain: true });
    }
  });
  afterAll(async () => {
    await vehicle?.endAsync();
    await broker?.dispose();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function startReceiver(group: string, log: (level: string, message: string) => void = quiet) {
    const out = lineCollector();
    const receiver = new Receiver({ broker: { url: broker.url }, group, writeLine: out.writeLine, log });
    await receiver.start();
    cleanups.push(() => receiver.stop().then(() => undefined));
    return { receiver, lines: out.lines };
  }

  it('turns garbage into one error line with topic and reason, and goes on', async () => {
    const { receiver, lines } = await startReceiver('garbage');
    await waitFor(() => lines.filter((l) => l.type === 'checkin').length === 2, 'retained checkins');
    const bad: [string, Buffer, mqtt.IClientPublishOptions?][] = [
      [`roadlink/v1/${VIN_A}/data`, Buffer.from('definitely not protobuf')],
      [`roadlink/v1/${VIN_A}/data`, speedBatch(1, 10).subarray(0, 15)], // truncated
      [`roadlink/v1/${VIN_A}/events`, Buffer.from([0x08, 0x01])], // an Event with a seq and no kind
      [`roadlink/v1/${VIN_A}/events`, Buffer.from('zz'), { properties: { userProperties: { 'content-encoding': 'deflate-raw' } } }],
      [`roadlink/v1/${VIN_B}/checkin`, Buffer.from(Checkin.encode({ vin: VIN_A }).finish())], // VIN mismatch
    ];
    for (const [topic, payload, options] of bad) await vehicle.publishAsync(topic, payload, { qos: 1, ...options });
    await vehicle.publishAsync(`roadlink/v1/${VIN_A}/data`, speedBatch(1, 10), { qos: 1 });
    await waitFor(() => lines.some((l) => l.type === 'data'), 'the valid message after the garbage');

    const errors = lines.filter((l) => l.type === 'error');
    expect(errors.map((e) => e.topic)).toEqual(bad.map(([topic]) => topic));
    expect(errors[0].reason).toMatch(/SampleBatch/);
    expect(errors[2].reason).toMatch(/no kind/);
    expect(errors[3].reason).toMatch(/deflate-raw/);
    expect(errors[4].reason).toMatch(/not the topic's VIN/);
    expect(receiver.summary().errors).toBe(5);
    const data = lines.find((l) => l.type === 'data')!;
    expect(data).toMatchObject({ vin: VIN_A, seq: 1, count: 10, rule: 'base', priority: 'PRIORITY_NORMAL' });
    expect(data.samples[3]).toEqual({ signal: 'Vehicle.Speed', unit: 'km/h', time: '2026-01-15T08:00:00.300Z', value: 1.03 });
  });

  it('reports gaps when they happen, and duplicates and holes in the summary', async () => {
    const log: string[] = [];
    const { receiver } = await startReceiver('gaps', (_level, message) => log.push(message));
    for (const [first, count] of [[1, 10], [11, 5], [31, 10], [11, 5], [16, 10]]) {
      await vehicle.publishAsync(`roadlink/v1/${VIN_B}/data`, speedBatch(first, count), { qos: 1 });
    }
    const event = (seq: number) => Buffer.from(Event.encode({ seq, timeMs: 1, alert: { code: 'x' } }).finish());
    await vehicle.publishAsync(`roadlink/v1/${VIN_B}/events`, event(1), { qos: 1 });
    await vehicle.publishAsync(`roadlink/v1/${VIN_B}/events`, event(4), { qos: 1, properties: { userProperties: { seq: '3' } } });
    await waitFor(() => receiver.summary().vehicles[VIN_B]?.events?.received === 2, 'the events');

    expect(receiver.summary().vehicles[VIN_B]).toEqual({
      data: { received: 35, duplicates: 5, first: 1, last: 40, holes: [[26, 30]] },
      events: { received: 2, duplicates: 0, first: 1, last: 3, holes: [[2, 2]] }, // the seq property wins over Event.seq
    });
    expect(log).toContain(`receiver: ${VIN_B} data: gap, 16..30 missing before 31`);
    expect(log).toContain(`receiver: ${VIN_B} data: 5 duplicate(s) in 11..15`);
  });

  it('spreads a shared subscription over the receivers of a group, each message to one of them', async () => {
    const one = await startReceiver('fleet');
    const two = await startReceiver('fleet');
    for (let i = 0; i < 40; i++) await vehicle.publishAsync(`roadlink/v1/${VIN_A}/data`, speedBatch(1 + i * 5, 5), { qos: 1 });
    const seqs = (lines: Record<string, any>[]) => lines.filter((l) => l.type === 'data').map((l) => l.seq as number);
    await waitFor(() => seqs(one.lines).length + seqs(two.lines).length === 40, 'all 40 messages');
    expect(seqs(one.lines).length).toBeGreaterThan(0);
    expect(seqs(two.lines).length).toBeGreaterThan(0);
    expect([...seqs(one.lines), ...seqs(two.lines)].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => 1 + i * 5));
    // Both still decode names: the checkin subscription is not shared.
    expect(one.lines.filter((l) => l.type === 'data').every((l) => l.samples[0].signal === 'Vehicle.Speed')).toBe(true);
    expect(two.lines.filter((l) => l.type === 'data').every((l) => l.samples[0].signal === 'Vehicle.Speed')).toBe(true);
  });
});

describe('roadlink backend (CLI)', () => {
  let broker: Mosquitto;
  let dir: string;
  beforeAll(async () => {
    broker = await Mosquitto.start();
    dir = mkdtempSync(join(tmpdir(), 'roadlink-backend-cli-'));
  });
  afterAll(async () => {
    await broker?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  function sink() {
    let text = '';
    const stream = new Writable({
      write(chunk, _enc, done) {
        text += chunk.toString();
        done();
      },
    });
    return { stream, text: () => text };
  }

  it('writes JSON lines to --out and a summary on stderr, exiting after --max-messages', async () => {
    const out = join(dir, 'messages.jsonl');
    const stdout = sink();
    const stderr = sink();
    const run = runBackend(['--broker', broker.url, '--out', out, '--group', 'cli', '--max-messages', '3'], { stdout: stdout.stream, stderr: stderr.stream });
    await waitFor(() => stderr.text().includes('receiving from'), 'the receiver to subscribe');
    const vehicle = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'cli-vehicle' });
    await vehicle.publishAsync(`roadlink/v1/${VIN_A}/checkin`, Buffer.from(Checkin.encode({ vin: VIN_A, signals: SIGNALS }).finish()), { qos: 1 });
    await vehicle.publishAsync(`roadlink/v1/${VIN_A}/data`, speedBatch(1, 3), { qos: 1 });
    await vehicle.publishAsync(`roadlink/v1/${VIN_A}/data`, Buffer.from('garbage'), { qos: 1 });
    await vehicle.endAsync();
    expect(await run).toBe(0);

    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    expect(lines.map((l) => l.type)).toEqual(['checkin', 'data', 'error']);
    expect(lines[1].samples.map((s: { value: number }) => s.value)).toEqual([1, 1.01, 1.02]);
    expect(stdout.text()).toBe('');
    expect(stderr.text()).toContain(`summary: ${VIN_A} data: seq 1..3, 3 received, 0 duplicates, no gaps`);
    expect(stderr.text()).toContain('summary: 2 messages, 1 errors');
  });

  it('exits 2 with a clear message on bad options', async () => {
    for (const [argv, message] of [
      [[], '--broker URL is required'],
      [['--broker', 'http://x'], 'protocol must be mqtt: or mqtts:'],
      [['--broker', 'mqtt://127.0.0.1:1', '--max-messages', 'many'], '--max-messages wants a positive integer'],
      [['--broker', 'mqtts://127.0.0.1:1', '--ca', join(dir, 'missing.pem')], 'tls.caFile'],
    ] as [string[], string][]) {
      const stderr = sink();
      expect(await runBackend(argv, { stdout: sink().stream, stderr: stderr.stream }), argv.join(' ')).toBe(2);
      expect(stderr.text()).toContain(message);
    }
  });
});
