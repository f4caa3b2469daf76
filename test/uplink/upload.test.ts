/**
 * Store -> uplink -> mosquitto (plain TCP) -> receiver, end to end with the real Store and broker.
 */
import { describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { Uplink, type UplinkOptions } from '../../agent/uplink/uplink.js';
import { Receiver } from '../../backend/receiver.js';
import { unpack } from '../../wire/payload.js';
import { Checkin, Presence } from '../../proto/gen/roadlink.js';
import {
  brokerForSuite, fillEvents, fillSamples, lineCollector, missingOrWrong, openTestStore, receivedSamples, SIGNALS, VIN_A, waitFor, type TestStore,
} from './fixtures.js';

const quiet = () => undefined;

describe('upload over plain TCP', () => {
  const suite = brokerForSuite();
  const cleanups = suite.cleanups;

  async function startReceiver() {
    const out = lineCollector();
    const receiver = new Receiver({ broker: { url: suite.broker.url }, writeLine: out.writeLine, log: quiet });
    await receiver.start();
    cleanups.push(() => receiver.stop().then(() => undefined));
    return { receiver, ...out };
  }

  function startUplink(t: TestStore, options: Partial<UplinkOptions> = {}) {
    const uplink = new Uplink({
      vin: VIN_A,
      broker: { url: suite.broker.url },
      store: t.store,
      checkin: () => ({ brand: 'Volkswagen', model: 'Golf', signals: SIGNALS, agentVersion: '0.1.0' }),
      backoff: { initialMs: 100, maxMs: 500 },
      log: quiet,
      ...options,
    });
    cleanups.push(() => uplink.stop());
    uplink.start();
    return uplink;
  }

  it('delivers every stored sample and event, in order, and empties the store', async () => {
    const t = openTestStore();
    cleanups.push(t.dispose);
    const sent = fillSamples(t.store, 20_000, 1500);
    const eventSeqs = fillEvents(t.store, 25);
    const { receiver, lines } = await startReceiver();
    const uplink = startUplink(t);

    await waitFor(() => t.store.stats().storedRows === 0, 'the store to empty');
    await waitFor(() => (receiver.summary().vehicles[VIN_A]?.data?.received ?? 0) >= sent.length, 'every sample at the receiver');
    await waitFor(() => (receiver.summary().vehicles[VIN_A]?.events?.received ?? 0) >= eventSeqs.length, 'every event at the receiver');

    expect(missingOrWrong(sent, receivedSamples(lines))).toEqual([]);
    const summary = receiver.summary().vehicles[VIN_A];
    expect(summary.data).toMatchObject({ received: sent.length, duplicates: 0, holes: [], first: 1, last: sent.length });
    expect(summary.events).toMatchObject({ received: 25, duplicates: 0, holes: [], first: eventSeqs[0], last: eventSeqs[24] });
    expect(uplink.stats()).toMatchObject({ ackedSamples: sent.length, ackedRecords: 25, badMessages: 0, rejectedPublishes: 0 });

    // Events (HIGH) went before the samples (NORMAL); within the data stream, sequence order.
    const order = lines.filter((l) => l.type === 'data' || l.type === 'event').map((l) => l.type);
    expect(order.slice(0, 25)).toEqual(Array(25).fill('event'));
    const dataSeqs = lines.filter((l) => l.type === 'data').map((l) => l.seq as number);
    expect(dataSeqs).toEqual([...dataSeqs].sort((a, b) => a - b));

    const event = lines.find((l) => l.type === 'event')!;
    expect(event).toMatchObject({ vin: VIN_A, kind: 'alert', priority: 'PRIORITY_HIGH', time: '2026-01-15T09:00:00.000Z', alert: { code: 'oil_pressure', active: true, value: 1.5 } });
    const checkin = lines.find((l) => l.type === 'checkin')!;
    expect(checkin).toMatchObject({ vin: VIN_A, brand: 'Volkswagen', signals: expect.arrayContaining([expect.objectContaining({ name: 'Vehicle.Speed' })]) });
  });

  it('deletes a row only after its PUBACK: a frozen broker leaves every row in the store', async () => {
    const t = openTestStore();
    cleanups.push(t.dispose);
    const { receiver } = await startReceiver();
    // Messages of a few merged rows each (4 KiB), so that the uplink has more than its window to send.
    const uplink = startUplink(t, { maxInFlight: 2, maxPayloadBytes: 4096 });
    await waitFor(() => uplink.stats().connected, 'the uplink to connect');

    suite.broker.pause();
    let rows = 0;
    try {
      fillSamples(t.store, 6000, 500);
      rows = t.store.stats().storedRows;
      // The uplink publishes up to its window, then waits: no PUBACK, no ack, no deletion.
      await waitFor(() => uplink.stats().publishedMessages >= 2, 'a full window of publishes', 5000);
      await new Promise((r) => setTimeout(r, 600));
      t.store.flush();
      expect(uplink.stats().ackedRows).toBe(0);
      expect(uplink.stats().inFlightMessages).toBeLessThanOrEqual(2);
      expect(uplink.stats().publishedMessages).toBe(2);
      expect(t.store.stats().storedRows).toBe(rows);
    } finally {
      suite.broker.resume();
    }
    await waitFor(() => uplink.stats().ackedRows === rows, 'all rows acked after the broker resumed');
    await waitFor(() => (receiver.summary().vehicles[VIN_A]?.data?.received ?? 0) === 6000, 'all samples received');
    t.store.flush();
    expect(t.store.stats().storedRows).toBe(0);
  });

  it('publishes a retained Checkin and Presence on connect, and an offline Presence on a clean stop', async () => {
    const t = openTestStore();
    cleanups.push(t.dispose);
    const uplink = startUplink(t, { bootId: 'boot-1' });
    await waitFor(() => uplink.stats().connected, 'the uplink to connect');
    await new Promise((r) => setTimeout(r, 200));

    // A client connecting later gets both retained messages.
    const watcher = await mqtt.connectAsync(suite.broker.url, { protocolVersion: 5, clientId: 'watcher' });
    cleanups.push(() => watcher.endAsync());
    const got = new Map<string, Buffer[]>();
    watcher.on('message', (topic, payload, packet) => got.set(topic, [...(got.get(topic) ?? []), unpack(payload, packet.properties)]));
    await watcher.subscribeAsync([`roadlink/v1/${VIN_A}/checkin`, `roadlink/v1/${VIN_A}/online`], { qos: 1 });
    await waitFor(() => got.size === 2, 'retained checkin and presence');
    const checkin = Checkin.decode(got.get(`roadlink/v1/${VIN_A}/checkin`)![0]);
    expect(checkin.vin).toBe(VIN_A);
    expect(checkin.bootId).toBe('boot-1');
    expect(checkin.signals.map((s) => s.name)).toEqual(SIGNALS.map((s) => s.name));
    expect(checkin.signalTable).not.toBe(0);
    expect(Presence.decode(got.get(`roadlink/v1/${VIN_A}/online`)![0]).online).toBe(true);

    // Clean stop: an explicit offline Presence, reason "shutdown".
    await uplink.stop();
    await waitFor(() => got.get(`roadlink/v1/${VIN_A}/online`)!.length === 2, 'offline presence');
    const offline = Presence.decode(got.get(`roadlink/v1/${VIN_A}/online`)![1]);
    expect(offline).toMatchObject({ online: false, reason: 'shutdown', bootId: 'boot-1' });
  });

  it('wake() uploads new rows at once instead of at the next poll', async () => {
    const t = openTestStore();
    cleanups.push(t.dispose);
    const uplink = startUplink(t, { pollIntervalMs: 60_000 });
    await waitFor(() => uplink.stats().connected, 'connect');
    await new Promise((r) => setTimeout(r, 100)); // the first (empty) poll is done; the next is a minute away
    fillSamples(t.store, 100);
    await new Promise((r) => setTimeout(r, 300));
    expect(uplink.stats().publishedMessages).toBe(0);
    uplink.wake();
    await waitFor(() => uplink.stats().ackedSamples === 100, 'the woken upload', 2000);
  });

  it('keeps sequence numbers per store stream when several streams publish on data', async () => {
    const t = openTestStore();
    cleanups.push(t.dispose);
    const { receiver, lines } = await startReceiver();
    for (let i = 0; i < 300; i++) {
      t.store.appendSample('data', 2, 1, (Date.UTC(2026, 0, 1) + i * 10) * 1000, i);
      t.store.appendSample('fast', 2, 2, (Date.UTC(2026, 0, 1) + i * 10) * 1000, 1000 + i);
      if (i % 100 === 99) t.store.flush();
    }
    startUplink(t, { streamTopics: { data: 'data', fast: 'data' } });
    await waitFor(() => receiver.summary().vehicles[VIN_A]?.fast?.received === 300 && receiver.summary().vehicles[VIN_A]?.data?.received === 300, 'both streams');
    expect(receiver.summary().vehicles[VIN_A]).toMatchObject({
      data: { received: 300, duplicates: 0, first: 1, last: 300, holes: [] },
      fast: { received: 300, duplicates: 0, first: 1, last: 300, holes: [] },
    });
    // The three rows of each stream travel merged: one message per stream covering its whole range.
    const fast = lines.filter((l) => l.type === 'data' && l.stream === 'fast');
    expect(fast.map((l) => [l.seq, l.count])).toEqual([[1, 300]]);
    expect(lines.filter((l) => l.type === 'data' && l.stream === undefined).map((l) => [l.seq, l.count])).toEqual([[1, 300]]);
    expect(fast.every((l) => l.samples.every((s: { signal: string }) => s.signal === 'Vehicle.Powertrain.CombustionEngine.Speed'))).toBe(true);
  });
});
