/**
 * The real thing over the embedded broker: the project's Uplink uploading a real Store (temp SQLite
 * file) and the project's Receiver getting every sample, as the demo runs them; a connection cut
 * mid-upload (will, resumed sessions, a command queued for the vehicle); a backend receiver that
 * was away getting its queued messages.
 */
import { describe, expect, it } from 'vitest';
import { Uplink, type UplinkOptions } from '../../../agent/uplink/uplink.js';
import { Receiver, type ReceiverOptions } from '../../../backend/receiver.js';
import { unpack } from '../../../wire/payload.js';
import { Presence, SignedCommand } from '../../../proto/gen/roadlink.js';
import { TcpProxy } from '../../helpers/tcp-proxy.js';
import {
  fillEvents, fillSamples, lineCollector, missingOrWrong, openTestStore, receivedSamples, SIGNALS, VIN_A, waitFor, type TestStore,
} from '../../uplink/fixtures.js';
import { brokerPerTest } from './broker-fixture.js';

const quiet = () => undefined;

describe('uplink and receiver over the embedded broker', () => {
  const fx = brokerPerTest();

  async function startReceiver(options: Partial<ReceiverOptions> = {}) {
    const out = lineCollector();
    const receiver = new Receiver({ broker: { url: fx.broker.url }, writeLine: out.writeLine, log: quiet, backoff: { initialMs: 50, maxMs: 200 }, ...options });
    await receiver.start();
    fx.cleanups.push(() => receiver.stop());
    return { receiver, ...out };
  }

  function startUplink(t: TestStore, options: Partial<UplinkOptions> = {}) {
    const uplink = new Uplink({
      vin: VIN_A,
      broker: { url: fx.broker.url },
      store: t.store,
      checkin: () => ({ brand: 'Volkswagen', model: 'Golf', signals: SIGNALS, agentVersion: '0.1.0' }),
      backoff: { initialMs: 50, maxMs: 300 },
      log: quiet,
      ...options,
    });
    fx.cleanups.push(() => uplink.stop());
    uplink.start();
    return uplink;
  }

  function testStore(): TestStore {
    const t = openTestStore();
    fx.cleanups.push(t.dispose);
    return t;
  }

  it('delivers every stored sample and event to the receiver exactly once and empties the store', async () => {
    const t = testStore();
    const sent = fillSamples(t.store, 20_000, 1500);
    const eventSeqs = fillEvents(t.store, 25);
    const { receiver, lines } = await startReceiver();
    const uplink = startUplink(t);
    const vehicle = () => receiver.summary().vehicles[VIN_A] ?? {};

    await waitFor(() => t.store.stats().storedRows === 0 && vehicle().data?.last === sent.length && vehicle().events?.received === 25, 'everything delivered');
    expect(vehicle()).toEqual({
      data: { epoch: t.store.epoch, received: sent.length, duplicates: 0, holes: [], first: 1, last: sent.length },
      events: { epoch: t.store.epoch, received: 25, duplicates: 0, holes: [], first: eventSeqs[0], last: eventSeqs[24] },
    });
    expect(missingOrWrong(sent, receivedSamples(lines))).toEqual([]);
    expect(uplink.stats()).toMatchObject({ rejectedPublishes: 0, badMessages: 0 });
    expect(fx.broker.stats()).toMatchObject({ malformedPackets: 0, protocolErrors: 0, internalErrors: 0, droppedMessages: 0, retainedMessages: 2 });
  });

  it('survives a cut connection: will published, sessions resumed, a command queued for the vehicle, no sample lost', async () => {
    const proxy = await TcpProxy.start(fx.broker.port);
    fx.cleanups.push(() => proxy.close());
    const t = testStore();
    const sent = fillSamples(t.store, 60_000, 500);
    const rows = t.store.stats().storedRows;
    const { receiver, lines } = await startReceiver();
    const watcher = await fx.client({ clientId: 'presence-watcher' });
    await watcher.client.subscribeAsync(`roadlink/v1/${VIN_A}/online`, { qos: 1 });
    const presence = () => watcher.messages.map((m) => Presence.decode(unpack(Buffer.from(m.packet.payload), m.packet.properties)));

    const commands: Buffer[] = [];
    const uplink = startUplink(t, { broker: { url: proxy.url() }, maxInFlight: 8, deflate: false, pollIntervalMs: 20, maxPayloadBytes: 4096 });
    uplink.onCommand((bytes) => void commands.push(bytes));
    await waitFor(() => uplink.stats().ackedRows >= rows / 4, 'a quarter of the rows acked');
    proxy.refusing = true;
    proxy.cut();
    await waitFor(() => presence().some((p) => !p.online), 'the will (offline presence)');
    expect(presence().find((p) => !p.online)!.reason).toBe(''); // the will, not a clean shutdown
    expect(uplink.stats().ackedRows).toBeLessThan(rows);

    const command = Buffer.from(SignedCommand.encode({ request: Buffer.from('lock'), signature: Buffer.alloc(64, 7), keyId: 'k' }).finish());
    await watcher.client.publishAsync(`roadlink/v1/${VIN_A}/cmd/req`, command, { qos: 1 });
    expect(fx.broker.stats()).toMatchObject({ offlineSessions: 1, queuedMessages: 1 });

    proxy.refusing = false;
    await waitFor(() => t.store.stats().storedRows === 0, 'every row acked after the reconnect', 60_000);
    await waitFor(() => (receiver.summary().vehicles[VIN_A]?.data?.last ?? 0) === sent.length, 'the last sample at the receiver');
    await waitFor(() => commands.length === 1, 'the queued command');
    expect(commands[0].equals(command)).toBe(true);
    expect(uplink.stats().connects).toBe(2);
    expect(receiver.summary().vehicles[VIN_A].data.holes).toEqual([]);
    expect(missingOrWrong(sent, receivedSamples(lines))).toEqual([]);
  });

  it('queues for a persistent receiver session while the backend is away, and hands everything over when it is back', async () => {
    const first = await startReceiver({ clientId: 'backend-1' });
    await first.receiver.stop();
    expect(fx.broker.stats().offlineSessions).toBe(1);

    const t = testStore();
    const sent = fillSamples(t.store, 5000, 250);
    startUplink(t, { maxPayloadBytes: 1024 });
    await waitFor(() => t.store.stats().storedRows === 0, 'the store to empty while the receiver is away');
    expect(fx.broker.stats().queuedMessages).toBeGreaterThanOrEqual(20);

    const back = await startReceiver({ clientId: 'backend-1' });
    await waitFor(() => (back.receiver.summary().vehicles[VIN_A]?.data?.received ?? 0) >= sent.length, 'the queued samples');
    expect(back.receiver.summary().vehicles[VIN_A].data).toMatchObject({ received: sent.length, duplicates: 0, holes: [], first: 1, last: sent.length });
    expect(missingOrWrong(sent, receivedSamples(back.lines))).toEqual([]);
  });
});
