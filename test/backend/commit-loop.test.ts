/**
 * The ingest commit loop against a real SQLite store: samples that arrive before their vehicle's
 * Checkin (the two come on different connections) are stored under their signals' names as soon as
 * the Checkin is there, not after the whole signal-table wait; a vehicle whose Checkin is missing
 * costs one wait, not one per message.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../backend/db/open-store.js';
import type { SqlBackendStore } from '../../backend/db/sql-backend-store.js';
import type { Upload } from '../../backend/db/uploads.js';
import { CommitLoop } from '../../backend/ingest/commit-loop.js';
import { checkin, speedSamples, status, T0, VIN } from './store-fixtures.js';
import { waitFor } from '../uplink/fixtures.js';

/** Long enough that a message held for the whole wait fails the test's own waits. */
const SIGNAL_TABLE_WAIT_MS = 60_000;

describe('ingest commit loop', () => {
  let dir: string;
  let store: SqlBackendStore | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'roadlink-commit-loop-'));
    return () => rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  let counter = 0;
  /** A loop on a fresh store; `push` names each upload, `acked` lists the names in PUBACK order. */
  async function loop(signalTableWaitMs = SIGNAL_TABLE_WAIT_MS) {
    const opened = await openSqliteStore(join(dir, `ingest-${++counter}.db`));
    store = opened;
    const commits = new CommitLoop({ sink: opened, log: () => undefined, signalTableWaitMs });
    const acked: string[] = [];
    const push = (name: string, upload: Upload) => commits.push({ upload, receivedMs: Date.now(), ack: () => acked.push(name) });
    return { commits, acked, push, store: opened };
  }

  it('lets a Checkin queued behind samples waiting for its table go first', async () => {
    const { commits, acked, push, store } = await loop();
    push('samples', speedSamples(1, 20)); // committed alone at once: its table is not known yet
    push('checkin', checkin());
    await waitFor(() => acked.length === 2, 'both acked', 5_000);
    await commits.stop();

    expect(acked).toEqual(['checkin', 'samples']);
    expect(commits.stats.unknownSignalSamples).toBe(0);
    expect((await store.signals(VIN)).map((s) => s.name)).toEqual(['Vehicle.Speed']);
    expect(Array.from((await store.samples(VIN, 'Vehicle.Speed', T0, T0 + 60_000))!.value)).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) / 100));
  });

  it('commits the Checkins of a batch before the batch\'s other messages', async () => {
    const { commits, acked, push, store } = await loop();
    push('status', status(T0, 1000)); // the loop is busy with this one while the next two are queued
    push('samples', speedSamples(1, 20));
    push('checkin', checkin());
    await waitFor(() => acked.length === 3, 'all acked', 5_000);
    await commits.stop();

    expect(acked).toEqual(['status', 'checkin', 'samples']);
    expect(commits.stats.batches).toBe(2);
    expect(commits.stats.unknownSignalSamples).toBe(0);
    expect((await store.signals(VIN)).map((s) => s.name)).toEqual(['Vehicle.Speed']);
  });

  it('waits for a vehicle\'s missing signal table once, not for each of its messages', async () => {
    const { commits, acked, push, store } = await loop();
    // Received a whole wait ago: stored under ids at once.
    commits.push({ upload: speedSamples(1, 5), receivedMs: Date.now() - SIGNAL_TABLE_WAIT_MS, ack: () => acked.push('waited') });
    await waitFor(() => acked.length === 1, 'the samples that waited', 5_000);
    push('next', speedSamples(6, 5)); // waiting again would take the whole SIGNAL_TABLE_WAIT_MS
    await waitFor(() => acked.length === 2, 'the next samples, without a second wait', 5_000);
    expect(commits.stats.unknownSignalSamples).toBe(10);

    push('checkin', checkin());
    push('after the checkin', speedSamples(11, 5));
    await waitFor(() => acked.length === 4, 'the checkin and the samples after it', 5_000);
    await commits.stop();
    expect(commits.stats.unknownSignalSamples).toBe(10);
    expect((await store.signals(VIN)).map((s) => s.name)).toEqual(['#1', 'Vehicle.Speed']);
  });

  it('still stores samples under signal ids when their Checkin never comes', async () => {
    const { commits, acked, push, store } = await loop(300);
    push('samples', speedSamples(1, 5));
    await waitFor(() => acked.length === 1, 'acked after the wait', 5_000);
    await commits.stop();

    expect(commits.stats.unknownSignalSamples).toBe(5);
    expect((await store.signals(VIN)).map((s) => s.name)).toEqual(['#1']);
  });
});
