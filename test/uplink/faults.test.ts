/**
 * The uplink under faults, against a real mosquitto: lost connections (TCP proxy cut), a broker that
 * is down at start, a broker killed (SIGKILL) and restarted mid-upload, and garbage on the
 * subscribed topics.
 */
import { describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { deflateRawSync } from 'node:zlib';
import { Uplink, type UplinkOptions } from '../../agent/uplink/uplink.js';
import { Receiver } from '../../backend/receiver.js';
import { unpack } from '../../wire/payload.js';
import { Presence, SignedCommand, SignedRulesUpdate } from '../../proto/gen/roadlink.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import {
  brokerForSuite, fillSamples, lineCollector, missingOrWrong, openTestStore, receivedSamples, SIGNALS, VIN_A, waitFor, type TestStore,
} from './fixtures.js';

const quiet = () => undefined;

describe('uplink faults', () => {
  const suite = brokerForSuite();
  const cleanups = suite.cleanups;

  function newUplink(t: TestStore, url: string, options: Partial<UplinkOptions> = {}) {
    const uplink = new Uplink({
      vin: VIN_A,
      broker: { url },
      store: t.store,
      checkin: () => ({ signals: SIGNALS }),
      backoff: { initialMs: 50, maxMs: 300 },
      log: quiet,
      ...options,
    });
    cleanups.push(() => uplink.stop());
    return uplink;
  }

  async function backendClient(id: string) {
    const client = await mqtt.connectAsync(suite.broker.url, { protocolVersion: 5, clientId: id });
    cleanups.push(() => client.endAsync());
    return client;
  }

  it('a lost connection fires the will (offline), then reconnects, resumes the session and says online again', async () => {
    const proxy = await TcpProxy.start(suite.broker.port);
    cleanups.push(() => proxy.close());
    const t = openTestStore();
    cleanups.push(t.dispose);
    const watcher = await backendClient('presence-watcher');
    const presence: { online: boolean; reason: string }[] = [];
    watcher.on('message', (_topic, payload, packet) => presence.push(Presence.decode(unpack(payload, packet.properties))));
    await watcher.subscribeAsync(`roadlink/v1/${VIN_A}/online`, { qos: 1 });

    const commands: Buffer[] = [];
    const uplink = newUplink(t, proxy.url());
    uplink.onCommand((bytes) => void commands.push(bytes));
    uplink.start();
    await waitFor(() => presence.some((p) => p.online), 'online presence');

    proxy.refusing = true;
    proxy.cut();
    await waitFor(() => presence.some((p) => !p.online), 'the will (offline presence)');
    expect(presence.find((p) => !p.online)!.reason).toBe(''); // the will, not a clean shutdown

    // While the vehicle is away the broker queues a command for its persistent session.
    const command = SignedCommand.encode({ request: Buffer.from('lock'), signature: Buffer.alloc(64, 7), keyId: 'k' }).finish();
    await watcher.publishAsync(`roadlink/v1/${VIN_A}/cmd/req`, Buffer.from(command), { qos: 1 });

    proxy.refusing = false;
    await waitFor(() => uplink.stats().connected && presence.filter((p) => p.online).length === 2, 'reconnect and online again');
    await waitFor(() => commands.length === 1, 'the queued command');
    expect(Buffer.compare(commands[0], Buffer.from(command))).toBe(0);
    expect(uplink.stats().connects).toBe(2);
  });

  it('keeps retrying with backoff while the broker is unreachable, then uploads', async () => {
    const proxy = await TcpProxy.start(suite.broker.port);
    cleanups.push(() => proxy.close());
    proxy.refusing = true;
    const t = openTestStore();
    cleanups.push(t.dispose);
    const sent = fillSamples(t.store, 3000, 1000);
    const out = lineCollector();
    const receiver = new Receiver({ broker: { url: suite.broker.url }, writeLine: out.writeLine, log: quiet });
    await receiver.start();
    cleanups.push(() => receiver.stop().then(() => undefined));

    const uplink = newUplink(t, proxy.url(), { backoff: { initialMs: 20, maxMs: 200, jitter: 0.5 } });
    uplink.start();
    await new Promise((r) => setTimeout(r, 1000));
    const failures = uplink.stats().disconnects;
    // 20, 40, 80, 160, 200, 200... ms (50-100 % of each): roughly 5 to 10 attempts in one second, not hundreds.
    expect(failures).toBeGreaterThanOrEqual(3);
    expect(failures).toBeLessThanOrEqual(14);
    expect(t.store.stats().storedRows).toBe(3);

    proxy.refusing = false;
    await waitFor(() => (receiver.summary().vehicles[VIN_A]?.data?.received ?? 0) === sent.length, 'the backlog after connecting');
    expect(missingOrWrong(sent, receivedSamples(out.lines))).toEqual([]);
  });

  /**
   * Uploads 240 rows, stops the broker (SIGTERM: it saves its state; SIGKILL: only its last 1 s
   * autosave survives) after a quarter of them were acked, restarts it, waits for the store to empty.
   */
  async function restartMidUpload(how: 'stop' | 'kill') {
    const t = openTestStore();
    cleanups.push(t.dispose);
    const sent = fillSamples(t.store, 120_000, 500);
    const rows = t.store.stats().storedRows;
    const out = lineCollector();
    const log: string[] = [];
    // A persistent receiver session, so the broker queues for it across its own restart; plain
    // subscriptions, because mosquitto 2.0.11 does not restore shared ones from its persistence file.
    const receiver = new Receiver({
      broker: { url: suite.broker.url },
      clientId: `receiver-${how}-test`,
      shared: false,
      writeLine: out.writeLine,
      log: (_level, message) => log.push(message),
      backoff: { initialMs: 50, maxMs: 200 },
    });
    await receiver.start();
    cleanups.push(() => receiver.stop().then(() => undefined));
    await new Promise((r) => setTimeout(r, 1500)); // the broker's autosave (1 s) has the receiver's session

    // Small messages (a few rows merged in each), so that the broker goes down mid-upload.
    const uplink = newUplink(t, suite.broker.url, { maxInFlight: 8, deflate: false, maxPayloadBytes: 8192 });
    // Sequence ranges of the rows PUBACKed before the broker went down.
    const ackedBefore: [number, number][] = [];
    let down = false;
    uplink.on('acked', (row) => !down && ackedBefore.push([row.firstSeq, row.firstSeq + row.count - 1]));
    uplink.start();
    await waitFor(() => uplink.stats().ackedRows >= rows / 4, 'a quarter of the rows acked');
    // Acks count as "before" until the uplink sees its connection close: every PUBACK the broker
    // sent before it died comes in ahead of that close, even after the process has exited.
    const closed = new Promise<void>((resolve) => uplink.once('close', () => {
      down = true;
      resolve();
    }));
    await (how === 'stop' ? suite.broker.stop() : suite.broker.kill());
    await closed;
    expect(uplink.stats().ackedRows).toBeLessThan(rows);
    await new Promise((r) => setTimeout(r, 300));
    await suite.broker.restart();

    await waitFor(() => t.store.stats().storedRows === 0, 'every row acked after the restart', 60_000);
    await new Promise((r) => setTimeout(r, 500)); // the receiver drains what the broker queued
    return { sent, out, log, ackedBefore, summary: receiver.summary().vehicles[VIN_A].data, uplink };
  }

  it('loses nothing when the broker is stopped and restarted mid-upload; duplicates only by sequence', async () => {
    const { sent, out, log, summary, uplink } = await restartMidUpload('stop');
    expect(summary.holes).toEqual([]);
    expect(summary.received).toBe(sent.length);
    expect(missingOrWrong(sent, receivedSamples(out.lines))).toEqual([]);
    // Re-sent rows show up as duplicates (reported on the log), never as something else.
    const copies = [...receivedSamples(out.lines).values()].reduce((n, s) => n + s.copies - 1, 0);
    expect(copies).toBe(summary.duplicates);
    if (summary.duplicates > 0) expect(log.some((l) => l.includes('duplicate'))).toBe(true);
    expect(uplink.stats().connects).toBeGreaterThanOrEqual(2);
    // The restart hit merged messages: rows re-sent after it were merged again, nothing lost.
    expect(uplink.stats().mergedMessages).toBeGreaterThan(0);
  }, 120_000);

  it('re-sends everything the broker had not acknowledged when it is killed (SIGKILL) mid-upload', async () => {
    const { sent, ackedBefore, summary, uplink } = await restartMidUpload('kill');
    // What mosquitto had acknowledged but neither delivered nor saved when killed is its loss (its
    // persistence is a periodic snapshot); everything else must arrive: every hole at the receiver
    // lies inside rows acked before the kill.
    const early = new Set<number>();
    for (const [from, to] of ackedBefore) for (let seq = from; seq <= to; seq++) early.add(seq);
    const lostByBroker: number[] = [];
    for (const [a, b] of summary.holes) for (let seq = a; seq <= b; seq++) lostByBroker.push(seq);
    expect(lostByBroker.filter((seq) => !early.has(seq))).toEqual([]);
    expect(summary.first).toBe(1);
    expect(summary.last).toBe(sent.length);
    expect(uplink.stats().ackedSamples).toBeGreaterThanOrEqual(sent.length);
  }, 120_000);

  it('counts garbage on cmd/req and rules without calling the handlers or stopping the upload', async () => {
    const t = openTestStore();
    cleanups.push(t.dispose);
    const uplink = newUplink(t, suite.broker.url);
    const commands: Buffer[] = [];
    const rules: Buffer[] = [];
    uplink.onCommand((bytes) => void commands.push(bytes));
    uplink.onRulesUpdate((bytes) => void rules.push(bytes));
    uplink.start();
    await waitFor(() => uplink.stats().connected, 'connect');
    await new Promise((r) => setTimeout(r, 100)); // subscriptions in place

    const backend = await backendClient('garbage-sender');
    const cmd = `roadlink/v1/${VIN_A}/cmd/req`;
    const garbage: [string, Buffer, mqtt.IClientPublishOptions?][] = [
      [cmd, Buffer.from('hello, not protobuf at all \xff\xff\xff')],
      [cmd, Buffer.from([0x0a, 0x40, 0x01])], // field 1 says 64 bytes follow, 1 does
      [cmd, Buffer.from(SignedCommand.encode({ request: Buffer.from('x'), signature: Buffer.alloc(10) }).finish())], // short signature
      [cmd, Buffer.from(SignedCommand.encode({ signature: Buffer.alloc(64) }).finish())], // no request
      [cmd, Buffer.from('not deflate'), { properties: { userProperties: { 'content-encoding': 'deflate-raw' } } }],
      [cmd, Buffer.from('x'), { properties: { userProperties: { 'content-encoding': 'br' } } }],
      [`roadlink/v1/${VIN_A}/rules`, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
    ];
    for (const [topic, payload, options] of garbage) await backend.publishAsync(topic, payload, { qos: 1, ...options });
    await waitFor(() => uplink.stats().badMessages === garbage.length, `${garbage.length} bad messages counted`);
    expect(commands).toEqual([]);
    expect(rules).toEqual([]);

    // Still alive: a well-formed (deflated) command and rules update reach the handlers, data still flows.
    const good = Buffer.from(SignedCommand.encode({ request: Buffer.from('unlock'), signature: Buffer.alloc(64, 1), keyId: 'k' }).finish());
    await backend.publishAsync(cmd, deflateRawSync(good), { qos: 1, properties: { userProperties: { 'content-encoding': 'deflate-raw' } } });
    const update = Buffer.from(SignedRulesUpdate.encode({ update: Buffer.from('{}'), signature: Buffer.alloc(64, 2), keyId: 'k' }).finish());
    await backend.publishAsync(`roadlink/v1/${VIN_A}/rules`, update, { qos: 1 });
    await waitFor(() => commands.length === 1 && rules.length === 1, 'the good messages');
    expect(Buffer.compare(commands[0], good)).toBe(0);
    expect(Buffer.compare(rules[0], update)).toBe(0);
    fillSamples(t.store, 100);
    await waitFor(() => uplink.stats().ackedSamples === 100, 'upload after the garbage');
    expect(uplink.stats()).toMatchObject({ connected: true, connects: 1, badMessages: garbage.length, handlerErrors: 0 });
  });

  it('a failing or slow command handler is counted and does not block later messages', async () => {
    const t = openTestStore();
    cleanups.push(t.dispose);
    const uplink = newUplink(t, suite.broker.url, { handlerTimeoutMs: 200 });
    const seen: string[] = [];
    uplink.onCommand(async (bytes) => {
      const request = Buffer.from(SignedCommand.decode(bytes).request).toString();
      seen.push(request);
      if (request === 'throw') throw new Error('handler bug');
      if (request === 'hang') await new Promise(() => undefined);
    });
    uplink.start();
    await waitFor(() => uplink.stats().connected, 'connect');
    await new Promise((r) => setTimeout(r, 100));
    const backend = await backendClient('command-sender');
    for (const request of ['throw', 'hang', 'after']) {
      const bytes = SignedCommand.encode({ request: Buffer.from(request), signature: Buffer.alloc(64) }).finish();
      await backend.publishAsync(`roadlink/v1/${VIN_A}/cmd/req`, Buffer.from(bytes), { qos: 1 });
    }
    await waitFor(() => seen.includes('after'), 'the command after the failing and the hanging one');
    expect(seen).toEqual(['throw', 'hang', 'after']);
    expect(uplink.stats().handlerErrors).toBe(2);
  });
});
