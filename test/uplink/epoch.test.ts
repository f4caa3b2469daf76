/**
 * The store epoch on the wire: every data and events message carries the user property `epoch`
 * (and the Checkin `store_epoch`). A store reopened keeps its epoch and its sequences go on; a
 * corrupt store moved aside is replaced by a new file whose sequences restart at 1 under a new
 * epoch, which the reference receiver reports as a new sequence space, not as duplicates.
 * Real Store files, real mosquitto.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openOrRecover } from '../../agent/store/open-or-recover.js';
import type { Store } from '../../agent/store/store.js';
import { Uplink } from '../../agent/uplink/uplink.js';
import { Receiver } from '../../backend/receiver.js';
import { brokerForSuite, fillEvents, fillSamples, lineCollector, SIGNALS, VIN_A, waitFor } from './fixtures.js';

const byId = new Map(SIGNALS.map((s) => [s.id!, s]));

describe('store epoch', () => {
  const suite = brokerForSuite();
  const cleanups = suite.cleanups;

  function openStore(path: string): Store {
    const store = openOrRecover({ path, commitIntervalMs: 50, signalGrid: (id) => ({ scale: byId.get(id)!.scale!, offset: byId.get(id)!.offset! }) }, () => {});
    cleanups.push(() => {
      try {
        store.close();
      } catch {
        // closed by the test
      }
    });
    return store;
  }

  /** Uploads what `store` holds, then stops the uplink and closes the store (an agent run). */
  async function uploadAll(store: Store): Promise<void> {
    const uplink = new Uplink({ vin: VIN_A, broker: { url: suite.broker.url }, store, checkin: () => ({ signals: SIGNALS }), log: () => {} });
    uplink.start();
    uplink.wake();
    await waitFor(() => {
      store.flush();
      return store.stats().storedRows === 0;
    }, 'every row acked');
    await uplink.stop();
    store.close();
  }

  it('keeps the epoch across restarts; a replaced corrupt store starts a new epoch, which the receiver does not count as duplicates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roadlink-epoch-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'store.db');
    const out = lineCollector();
    const log: string[] = [];
    const receiver = new Receiver({ broker: { url: suite.broker.url }, shared: false, writeLine: out.writeLine, log: (_level, message) => log.push(message) });
    await receiver.start();
    cleanups.push(() => receiver.stop().then(() => undefined));
    const received = () => receiver.summary().vehicles[VIN_A];

    // Two runs on one store file: one epoch, sequences 1..600 and events 1..6.
    const first = openStore(path);
    const epoch = first.epoch;
    fillSamples(first, 300, 100);
    fillEvents(first, 3);
    await uploadAll(first);
    const second = openStore(path);
    expect(second.epoch).toBe(epoch);
    fillSamples(second, 300, 100);
    fillEvents(second, 3);
    await uploadAll(second);
    await waitFor(() => received()?.data?.received === 600 && received()?.events?.received === 6, 'both runs');
    expect(received().data).toEqual({ epoch, received: 600, duplicates: 0, first: 1, last: 600, holes: [] });
    expect(log.filter((m) => m.includes('epoch'))).toEqual([]);

    // The file is damaged: moved aside, a new one numbers from 1 again.
    writeFileSync(path, Buffer.from('not a database any more '.repeat(500)));
    const replaced = openStore(path);
    expect(replaced.stats().recoveries).toBe(1);
    expect(replaced.epoch).not.toBe(epoch);
    fillSamples(replaced, 300, 100);
    fillEvents(replaced, 3);
    await uploadAll(replaced);
    await waitFor(() => received()?.data?.received === 300 && received()?.events?.received === 3, 'the new epoch');

    expect(received()).toEqual({
      data: { epoch: replaced.epoch, received: 300, duplicates: 0, first: 1, last: 300, holes: [], earlier: { [epoch]: { received: 600, duplicates: 0, first: 1, last: 600, holes: [] } } },
      events: { epoch: replaced.epoch, received: 3, duplicates: 0, first: 1, last: 3, holes: [], earlier: { [epoch]: { received: 6, duplicates: 0, first: 1, last: 6, holes: [] } } },
    });
    expect(log.filter((m) => /duplicate/.test(m))).toEqual([]);
    expect(log).toContain(`receiver: ${VIN_A} data: new store epoch "${replaced.epoch}" (was "${epoch}"): the vehicle's store was replaced, sequences start over at 1`);
    // Every message with sequences names its epoch; the Checkin too.
    const sequenced = out.lines.filter((l) => l.type === 'data' || l.type === 'event');
    expect(new Set(sequenced.map((l) => l.epoch))).toEqual(new Set([epoch, replaced.epoch]));
    expect(out.lines.filter((l) => l.type === 'checkin').map((l) => l.storeEpoch)).toContain(replaced.epoch);
  });
});
