/**
 * Fewer, fuller data messages: contiguous sample rows merged into one SampleBatch, acked in the
 * store only on the merged message's PUBACK, and the batching window that holds sample rows (never
 * events) until it ends, they would fill a message, or wake() sends them. Real Store, real mosquitto.
 */
import { describe, expect, it } from 'vitest';
import { Uplink, type UplinkOptions } from '../../agent/uplink/uplink.js';
import { Receiver } from '../../backend/receiver.js';
import {
  brokerForSuite, fillEvents, fillSamples, lineCollector, missingOrWrong, openTestStore, receivedSamples, SIGNALS, VIN_A, waitFor, type TestStore,
} from './fixtures.js';

const quiet = () => undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('coalesced upload', () => {
  const suite = brokerForSuite();
  const cleanups = suite.cleanups;

  async function startReceiver() {
    const out = lineCollector();
    const receiver = new Receiver({ broker: { url: suite.broker.url }, group: `coalesce-${Math.random().toString(36).slice(2)}`, writeLine: out.writeLine, log: quiet });
    await receiver.start();
    cleanups.push(() => receiver.stop().then(() => undefined));
    return { receiver, ...out, data: () => out.lines.filter((l) => l.type === 'data') };
  }

  async function connectedUplink(t: TestStore, options: Partial<UplinkOptions> = {}) {
    const uplink = new Uplink({ vin: VIN_A, broker: { url: suite.broker.url }, store: t.store, checkin: () => ({ signals: SIGNALS }), log: quiet, ...options });
    cleanups.push(() => uplink.stop());
    uplink.start();
    await waitFor(() => uplink.stats().connected, 'the uplink to connect');
    return uplink;
  }

  function newStore() {
    const t = openTestStore();
    cleanups.push(t.dispose);
    return t;
  }

  it('merges small rows into few messages covering contiguous seqs, deleting rows only after the merged PUBACK', async () => {
    const t = newStore();
    const { receiver, lines, data } = await startReceiver();
    const uplink = await connectedUplink(t, { maxInFlight: 4 });

    suite.broker.pause();
    let rows = 0;
    let sent: ReturnType<typeof fillSamples> = [];
    try {
      sent = fillSamples(t.store, 2400, 30); // 80 rows of 30 samples: what a store commits in ~1 s
      rows = t.store.stats().storedRows;
      expect(rows).toBe(80);
      uplink.wake();
      await waitFor(() => uplink.stats().publishedMessages >= 1, 'the merged message published', 5000);
      await sleep(600);
      t.store.flush();
      // Published, not PUBACKed: every merged row is still stored.
      expect(uplink.stats()).toMatchObject({ ackedRows: 0, ackedMessages: 0 });
      expect(uplink.stats().mergedRows).toBe(rows);
      expect(t.store.stats().storedRows).toBe(rows);
    } finally {
      suite.broker.resume();
    }
    await waitFor(() => uplink.stats().ackedRows === rows, 'every row acked after the broker resumed');
    await waitFor(() => (receiver.summary().vehicles[VIN_A]?.data?.received ?? 0) === sent.length, 'every sample received');
    t.store.flush();
    expect(t.store.stats().storedRows).toBe(0);

    const stats = uplink.stats();
    expect(stats.publishedMessages).toBeLessThan(rows / 10);
    expect(receiver.summary().vehicles[VIN_A].data).toMatchObject({ received: sent.length, duplicates: 0, holes: [], first: 1, last: sent.length });
    expect(missingOrWrong(sent, receivedSamples(lines))).toEqual([]);
    // Each message starts where the previous one ended, and carries what its range says.
    const ranges = data().map((l) => [l.seq as number, l.count as number, (l.samples as unknown[]).length]);
    expect(ranges.length).toBe(stats.publishedMessages);
    for (const [, count, samples] of ranges) expect(samples).toBe(count);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i][0]).toBe(ranges[i - 1][0] + ranges[i - 1][1]);
  });

  it('costs fewer payload bytes per sample than one message per row', async () => {
    const perRow = async (batchWindowMs: number) => {
      const t = newStore();
      const sent = fillSamples(t.store, 1500, 15);
      const uplink = await connectedUplink(t, { batchWindowMs, batchRows: batchWindowMs === 0 ? 1 : 64 });
      await waitFor(() => uplink.stats().ackedSamples === sent.length, 'every sample acked');
      return uplink.stats();
    };
    // batchRows 1 with the window off: each row leaves alone (the store hands out one at a time).
    const single = await perRow(0);
    const merged = await perRow(1); // 1 ms window: every row held, merged at the next look
    expect(single.mergedMessages).toBe(0);
    expect(single.publishedMessages).toBe(100);
    expect(merged.publishedMessages).toBeLessThan(5);
    expect(merged.publishedPayloadBytes).toBeLessThan(single.publishedPayloadBytes / 2);
  });

  it('holds sample rows for the batching window but sends events at once', async () => {
    const t = newStore();
    const { receiver, data } = await startReceiver();
    const uplink = await connectedUplink(t, { batchWindowMs: 2000, pollIntervalMs: 50 });
    const started = Date.now();
    const sent = fillSamples(t.store, 300, 30, started); // taken now: the window counts from their time
    fillEvents(t.store, 3);
    await waitFor(() => (receiver.summary().vehicles[VIN_A]?.events?.received ?? 0) === 3, 'the events', 1500);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(uplink.stats().heldRows).toBe(10);
    expect(data()).toEqual([]);

    await waitFor(() => (receiver.summary().vehicles[VIN_A]?.data?.received ?? 0) === sent.length, 'the samples after the window', 5000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(data().map((l) => [l.seq, l.count])).toEqual([[1, 300]]);
    expect(uplink.stats().heldRows).toBe(0);
  });

  it('wake() sends the held sample rows before the window ends', async () => {
    const t = newStore();
    const { receiver } = await startReceiver();
    const uplink = await connectedUplink(t, { batchWindowMs: 60_000, pollIntervalMs: 50 });
    const sent = fillSamples(t.store, 200, 20, Date.now());
    await waitFor(() => uplink.stats().heldRows === 10, 'the rows held');
    await sleep(300);
    expect(uplink.stats().publishedMessages).toBe(0);
    uplink.wake();
    await waitFor(() => (receiver.summary().vehicles[VIN_A]?.data?.received ?? 0) === sent.length, 'the woken samples', 3000);
    expect(uplink.stats()).toMatchObject({ publishedMessages: 1, mergedRows: 10, ackedSamples: sent.length, heldRows: 0 });
  });

  it('sends held rows without waiting once they would fill a message', async () => {
    const t = newStore();
    const uplink = await connectedUplink(t, { batchWindowMs: 60_000, pollIntervalMs: 50, maxPayloadBytes: 4096 });
    const sent = fillSamples(t.store, 6000, 500, Date.now()); // 12 rows, together well over 4 KiB
    await waitFor(() => uplink.stats().ackedSamples === sent.length, 'messages that filled up', 3000);
    const stats = uplink.stats();
    expect(stats.publishedMessages).toBeGreaterThan(1);
    expect(stats.publishedPayloadBytes / stats.publishedMessages).toBeLessThanOrEqual(4096);
    expect(stats.mergedRows).toBeGreaterThan(stats.mergedMessages);
  });

  it('stop() sends the held rows before disconnecting', async () => {
    const t = newStore();
    const { receiver } = await startReceiver();
    const uplink = await connectedUplink(t, { batchWindowMs: 60_000, pollIntervalMs: 50 });
    const sent = fillSamples(t.store, 100, 25, Date.now());
    await waitFor(() => uplink.stats().heldRows === 4, 'the rows held');
    await uplink.stop();
    expect(uplink.stats().ackedSamples).toBe(sent.length);
    t.store.flush();
    expect(t.store.stats().storedRows).toBe(0);
    await waitFor(() => (receiver.summary().vehicles[VIN_A]?.data?.received ?? 0) === sent.length, 'the samples at the receiver', 3000);
  });

  it('counts the window from the samples\' time: a backlog older than the window leaves at once, merged', async () => {
    const t = newStore();
    const { receiver } = await startReceiver();
    // Ten minutes offline: 60 rows of samples taken 10 min ago, against a 60 s window.
    const sent = fillSamples(t.store, 3000, 50, Date.now() - 600_000);
    const uplink = await connectedUplink(t, { batchWindowMs: 60_000, pollIntervalMs: 50 });
    const connectedAt = Date.now();
    await waitFor(() => uplink.stats().ackedSamples === sent.length, 'the old backlog, without waiting for the window', 3000);
    expect(Date.now() - connectedAt).toBeLessThan(3000);
    expect(uplink.stats()).toMatchObject({ mergedRows: 60, heldRows: 0 });
    expect(uplink.stats().publishedMessages).toBeLessThan(5);
    await waitFor(() => (receiver.summary().vehicles[VIN_A]?.data?.received ?? 0) === sent.length, 'the backlog at the receiver', 3000);
    expect(receiver.summary().vehicles[VIN_A].data).toMatchObject({ duplicates: 0, holes: [], first: 1, last: sent.length });
  });

  it('does not make rows wait a second window after a reconnect', async () => {
    const t = newStore();
    const windowMs = 3000;
    const uplink = await connectedUplink(t, { batchWindowMs: windowMs, pollIntervalMs: 50, backoff: { initialMs: 100, maxMs: 200 } });
    const sent = fillSamples(t.store, 200, 20, Date.now());
    await waitFor(() => uplink.stats().heldRows === 10, 'the rows held');
    await suite.broker.kill(); // the connection drops while the rows are held: they go back to the store
    await waitFor(() => !uplink.stats().connected, 'the uplink to notice');
    expect(uplink.stats()).toMatchObject({ heldRows: 0, ackedSamples: 0 });
    await sleep(windowMs + 500); // offline past the rows' window
    await suite.broker.restart();
    await waitFor(() => uplink.stats().connected, 'the reconnect', 10_000);
    const reconnectedAt = Date.now();
    await waitFor(() => uplink.stats().ackedSamples === sent.length, 'the rows right after the reconnect', windowMs);
    expect(Date.now() - reconnectedAt).toBeLessThan(windowMs / 2);
    expect(uplink.stats().publishedMessages).toBe(1);
  });
});
