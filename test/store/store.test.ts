/**
 * Store behaviour on real SQLite files: sequence numbers across reopen, what the uplink reads
 * (order, in-flight, ack, release), commit triggers, rejected samples, key/value state.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSampleChunk } from '../../wire/sample-chunk.js';
import { Store, type StoredRow, type StoreOptions } from '../../agent/store/store.js';
import { readRows, tempDir, testGrid } from './fixtures.js';
import { Priority } from '../../wire/priority.js';

const T0 = 1_700_000_000_000_000; // microseconds

function open(path: string, extra: Partial<StoreOptions> = {}): Store {
  return Store.open({ path, signalGrid: testGrid, commitIntervalMs: 60_000, onError: (e) => { throw e; }, ...extra });
}

/** Samples covered by rows of `stream`, as [first, last] seq ranges in the given order. */
const ranges = (rows: StoredRow[], stream: string) => rows.filter((r) => r.stream === stream).map((r) => [r.firstSeq, r.firstSeq + r.count - 1]);

describe('Store', () => {
  it('stores what was appended: chunk values on the signal grid, times in ms, records as given', () => {
    const path = join(tempDir(), 's.db');
    const store = open(path);
    const values: [number, number, number][] = [];
    for (let i = 0; i < 300; i++) {
      const signal = i % 3;
      const value = Math.sin(i / 10) * 100 - 20;
      values.push([signal, Math.floor((T0 + i * 12_345) / 1000), value]);
      store.appendSample('data', Priority.normal, signal, T0 + i * 12_345, value);
    }
    const seq = store.appendRecord('events', Priority.high, T0 + 5, Uint8Array.from([9, 8, 7]));
    store.close();

    const rows = readRows(path);
    expect(rows.map((r) => [r.stream, r.kind, r.first_seq, r.count])).toEqual([['data', 0, 1, 300], ['events', 1, seq, 1]]);
    expect([...rows[1].bytes]).toEqual([9, 8, 7]);
    const { header, columns } = decodeSampleChunk(rows[0].bytes);
    expect(header.firstSeq).toBe(1);
    expect(header.priority).toBe(Priority.normal);
    let start = 0;
    for (let c = 0; c < columns.columnCount; c++) {
      const signal = columns.columnSignal[c];
      const mine = values.filter((v) => v[0] === signal);
      const { scale, offset } = testGrid(signal);
      for (let i = start; i < columns.columnEnd[c]; i++) {
        const [, timeMs, value] = mine[i - start];
        expect(columns.timeMs[i]).toBe(timeMs);
        expect(Math.abs(columns.raw[i] * scale + offset - value)).toBeLessThanOrEqual(scale / 2 + 1e-9);
      }
      start = columns.columnEnd[c];
    }
    expect(start).toBe(300);
  });

  it('keeps sequence numbers increasing per stream across reopen', () => {
    const path = join(tempDir(), 's.db');
    let store = open(path);
    for (let i = 0; i < 10; i++) store.appendSample('data', Priority.normal, 1, T0 + i, i);
    expect(store.appendRecord('events', Priority.high, T0, Uint8Array.of(1))).toBe(1);
    expect(store.appendRecord('events', Priority.high, T0, Uint8Array.of(2))).toBe(2);
    store.flush();
    for (let i = 0; i < 5; i++) store.appendSample('data', Priority.low, 1, T0 + i, i);
    store.close();

    store = open(path);
    expect(store.nextSeq('data')).toBe(16);
    expect(store.nextSeq('events')).toBe(3);
    expect(store.nextSeq('never-used')).toBe(1);
    for (let i = 0; i < 7; i++) store.appendSample('data', Priority.normal, 1, T0 + i, i);
    expect(store.appendRecord('events', Priority.high, T0, Uint8Array.of(3))).toBe(3);
    store.close();

    const rows = readRows(path).filter((r) => r.stream === 'data');
    expect(rows.map((r) => [r.first_seq, r.count]).sort((a, b) => a[0] - b[0])).toEqual([[1, 10], [11, 5], [16, 7]]);
  });

  it('keeps counting after every row of a stream was acked and deleted', () => {
    const path = join(tempDir(), 's.db');
    let store = open(path);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10; i++) store.appendSample('data', Priority.normal, 1, T0 + i, i);
      store.flush();
      store.ack(store.nextBatch(10).map((r) => r.rowId));
      store.close();
      expect(readRows(path)).toEqual([]);
      store = open(path);
      expect(store.nextSeq('data')).toBe(10 * (round + 1) + 1);
    }
    store.close();
  });

  it('serves rows by priority (desc), then in seq order within a stream, never twice while in flight', () => {
    const path = join(tempDir(), 's.db');
    const store = open(path);
    const priorities = [Priority.low, Priority.critical, Priority.normal, Priority.high];
    for (let round = 0; round < 5; round++) {
      for (const p of priorities) store.appendSample(`s${p}`, p, 1, T0 + round, round);
      store.appendRecord('events', round % 2 ? Priority.high : Priority.low, T0 + round, Uint8Array.of(round));
      store.flush();
    }
    const first = store.nextBatch(7);
    const second = store.nextBatch(100);
    expect(first).toHaveLength(7);
    expect(second).toHaveLength(25 - 7);
    const all = [...first, ...second];
    expect(new Set(all.map((r) => r.rowId)).size).toBe(25);
    const prio = all.map((r) => r.priority);
    expect(prio).toEqual([...prio].sort((a, b) => b - a));
    // Within a priority, a stream's rows come in seq order ('events' has HIGH and LOW records).
    for (const stream of ['s1', 's2', 's3', 's4', 'events']) {
      for (const p of priorities) {
        const seqs = all.filter((r) => r.stream === stream && r.priority === p).map((r) => r.firstSeq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      }
    }
    expect(all.filter((r) => r.stream === 'events').map((r) => r.firstSeq)).toEqual([2, 4, 1, 3, 5]);
    expect(ranges(all, 's4')).toEqual([[1, 1], [2, 2], [3, 3], [4, 4], [5, 5]]);
    expect(store.nextBatch(10)).toEqual([]);
    expect(store.stats().inFlightRows).toBe(25);
    store.close();
  });

  it('deletes only acked rows; unacked rows come back after releaseInFlight', () => {
    const path = join(tempDir(), 's.db');
    let store = open(path);
    for (let i = 0; i < 6; i++) store.appendRecord('events', Priority.normal, T0 + i, Uint8Array.of(i));
    store.flush();
    const sent = store.nextBatch(4);
    expect(sent.map((r) => r.firstSeq)).toEqual([1, 2, 3, 4]);
    store.ack([sent[0].rowId, sent[2].rowId]);
    // Acked rows are never served again, even before their deletion is committed.
    expect(store.nextBatch(10).map((r) => r.firstSeq)).toEqual([5, 6]);
    expect(store.releaseInFlight()).toBe(4);
    expect(store.nextBatch(10).map((r) => r.firstSeq)).toEqual([2, 4, 5, 6]);
    store.close();

    expect(readRows(path).map((r) => r.first_seq)).toEqual([2, 4, 5, 6]);
    store = open(path);
    expect(store.stats()).toMatchObject({ storedRows: 4, storedRecords: 4, inFlightRows: 0 });
    expect(store.nextBatch(10).map((r) => r.firstSeq)).toEqual([2, 4, 5, 6]);
    store.close();
  });

  it('an ack that arrives late for a row already deleted never touches a newer row', () => {
    const path = join(tempDir(), 's.db');
    const store = open(path);
    store.appendRecord('events', Priority.normal, T0, Uint8Array.of(1));
    store.flush();
    const [row] = store.nextBatch(1);
    store.ack([row.rowId]);
    store.flush(); // deleted: it was the row with the highest id
    store.appendRecord('events', Priority.normal, T0, Uint8Array.of(2));
    store.flush();
    store.ack([row.rowId]); // duplicate PUBACK
    store.flush();
    expect(store.nextBatch(5).map((r) => [...r.bytes])).toEqual([[2]]);
    store.close();
  });

  it('makes rows in flight for longer than inFlightTimeoutMs sendable again', async () => {
    const store = open(join(tempDir(), 's.db'), { inFlightTimeoutMs: 50 });
    store.appendRecord('events', Priority.normal, T0, Uint8Array.of(1));
    store.flush();
    expect(store.nextBatch(5)).toHaveLength(1);
    expect(store.nextBatch(5)).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 80));
    expect(store.nextBatch(5)).toHaveLength(1);
    store.close();
  });

  it('commits when commitMaxSamples are pending and on the commit timer, not before', async () => {
    const path = join(tempDir(), 's.db');
    const commits: unknown[] = [];
    const store = open(path, { commitMaxSamples: 1000, commitIntervalMs: 100, onCommit: (c) => commits.push(c) });
    for (let i = 0; i < 999; i++) store.appendSample('data', Priority.normal, 2, T0 + i * 1000, i);
    expect(store.nextBatch(5)).toEqual([]);
    expect(store.stats()).toMatchObject({ pendingSamples: 999, storedSamples: 0, commits: 0 });
    store.appendSample('data', Priority.normal, 2, T0, 1);
    expect(store.stats()).toMatchObject({ pendingSamples: 0, storedSamples: 1000, commits: 1 });
    store.appendSample('data', Priority.normal, 2, T0, 1);
    await new Promise((r) => setTimeout(r, 250));
    expect(store.stats()).toMatchObject({ pendingSamples: 0, storedSamples: 1001, commits: 2 });
    store.appendRecord('events', Priority.high, T0, Uint8Array.of(1));
    store.close();
    expect(commits).toEqual([{ rows: 1, samples: 1000, records: 0 }, { rows: 1, samples: 1, records: 0 }, { rows: 1, samples: 0, records: 1 }]);
    expect(readRows(path).map((r) => r.count)).toEqual([1000, 1, 1]);
  });

  it('commits a CRITICAL record at once', () => {
    const path = join(tempDir(), 's.db');
    const store = open(path);
    store.appendSample('data', Priority.normal, 2, T0, 1);
    store.appendRecord('collision', Priority.critical, T0, Uint8Array.of(42));
    expect(readRows(path).map((r) => r.stream)).toEqual(['data', 'collision']);
    store.close();
  });

  it('rejects samples it cannot store exactly, counts them and says why', () => {
    const errors: string[] = [];
    const path = join(tempDir(), 's.db');
    const store = open(path, {
      signalGrid: (id) => (id === 13 ? { scale: 0, offset: 0 } : testGrid(id)),
      onError: (e) => errors.push(e.message),
    });
    store.appendSample('data', Priority.normal, 1, T0, 5);
    store.appendSample('data', Priority.normal, 1, T0, Number.NaN);
    store.appendSample('data', Priority.normal, 1, Number.POSITIVE_INFINITY, 5);
    store.appendSample('data', Priority.normal, 1, T0, 1e300);
    store.appendSample('data', 99, 1, T0, 5);
    store.appendSample('data', Priority.normal, -1, T0, 5);
    store.appendSample('data', Priority.normal, 13, T0, 5);
    store.flush();
    expect(store.stats()).toMatchObject({ rejectedSamples: 6, storedSamples: 1 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/rejected 6 samples, the last because signalGrid\(13\) gave no usable grid/);
    store.close();
  });

  it('uses the new grid and signal table after setSignalGrid, committing older samples first', () => {
    const path = join(tempDir(), 's.db');
    const store = open(path, { signalTable: 7 });
    store.appendSample('data', Priority.normal, 4, T0, 10); // scale 0.02 -> raw 500
    store.setSignalGrid(() => ({ scale: 0.5, offset: 0 }), 8);
    store.appendSample('data', Priority.normal, 4, T0, 10); // raw 20
    store.close();
    const chunks = readRows(path).map((r) => decodeSampleChunk(r.bytes));
    expect(chunks.map((c) => [c.header.signalTable, c.columns.raw[0]])).toEqual([[7, 500], [8, 20]]);
  });

  it('keeps key/value state across reopen', () => {
    const path = join(tempDir(), 's.db');
    let store = open(path);
    store.putState('rules.version', Uint8Array.of(1, 2, 3));
    store.putState('rules.version', new Uint8Array(Uint8Array.of(0, 4, 5, 6).buffer, 1, 3));
    expect(store.getState('missing')).toBeUndefined();
    store.close();
    store = open(path);
    expect([...store.getState('rules.version')!]).toEqual([4, 5, 6]);
    store.close();
  });

  it('refuses to work after close', () => {
    const store = open(join(tempDir(), 's.db'));
    store.close();
    store.close();
    store.appendRecord('x', 1, T0, Uint8Array.of(1));
    expect(() => store.flush()).toThrow(/closed/);
  });
});
