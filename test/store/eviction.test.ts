/**
 * Quota eviction on a real file: lowest priority and oldest first, CRITICAL only when nothing of
 * lower priority is left, and every eviction counted (stats, callback, persisted).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store, type EvictionReport } from '../../agent/store/store.js';
import { readRows, tempDir, testGrid } from './fixtures.js';
import { Priority } from '../../wire/priority.js';

const T0 = 1_700_000_000_000_000;
const QUOTA = 40_000;

describe('Store quota', () => {
  it('evicts the lowest priority oldest first, collisions last, and counts every eviction', () => {
    const path = join(tempDir(), 's.db');
    const reports: EvictionReport[] = [];
    const options = { path, signalGrid: testGrid, quotaBytes: QUOTA, commitIntervalMs: 60_000, onEvict: (r: EvictionReport) => reports.push(r) };
    let store = Store.open(options);
    const record = new Uint8Array(200).fill(1);
    store.appendRecord('collision', Priority.critical, T0, record); // the oldest row of all
    for (let i = 0; i < 3; i++) store.appendRecord('status', Priority.high, T0, record);
    let appended = 0;
    let t = T0;
    for (let commit = 0; commit < 60; commit++) {
      for (let i = 0; i < 1000; i++, t += 10_000) {
        store.appendSample('telemetry', Priority.low, i % 10, t, Math.sin(t / 1e7) * 50 + (i % 7));
        appended++;
      }
      if (commit % 4 === 0) {
        for (let i = 0; i < 100; i++) store.appendSample('trip', Priority.normal, 20, t + i, i);
        appended += 100;
      }
      store.flush();
      expect(store.stats().storedBytes).toBeLessThanOrEqual(QUOTA);
    }

    // Phase 1: only LOW telemetry went, oldest first: what is left of it is the newest rows.
    let rows = readRows(path);
    const byStream = (s: string) => rows.filter((r) => r.stream === s);
    expect(byStream('collision')).toHaveLength(1);
    expect(byStream('status')).toHaveLength(3);
    expect(byStream('trip')).toHaveLength(15);
    const telemetry = byStream('telemetry');
    expect(telemetry.length).toBeGreaterThan(0);
    expect(telemetry.length).toBeLessThan(60);
    const lastSeq = telemetry.at(-1)!.first_seq + telemetry.at(-1)!.count - 1;
    expect(lastSeq).toBe(60 * 1000);
    expect(telemetry[0].first_seq).toBe(60 * 1000 - telemetry.length * 1000 + 1); // a contiguous suffix
    const storedSamples = rows.reduce((n, r) => n + (r.kind === 0 ? r.count : 0), 0);
    let stats = store.stats();
    expect(stats.evictedSamples).toBe(appended - storedSamples);
    expect(stats.evictedRecords).toBe(0);
    expect(stats.evictedRows).toBe(60 - telemetry.length);
    expect(reports.reduce((n, r) => n + r.samples, 0)).toBe(stats.evictedSamples);
    expect(Math.max(...reports.map((r) => r.maxPriority))).toBe(Priority.low);
    store.close();

    // Phase 2 (after a restart): collisions pour in; everything below CRITICAL goes before the first collision does.
    store = Store.open(options);
    expect(store.stats()).toMatchObject({ evictedSamples: stats.evictedSamples, evictedRows: stats.evictedRows, storedSamples });
    reports.length = 0;
    for (let i = 0; i < 300; i++) {
      store.appendRecord('collision', Priority.critical, T0 + i, record);
      const criticalEvicted = reports.some((r) => r.maxPriority === Priority.critical);
      if (criticalEvicted) expect(readRows(path).every((r) => r.priority === Priority.critical)).toBe(true);
    }
    rows = readRows(path);
    expect(rows.every((r) => r.stream === 'collision')).toBe(true);
    const seqs = rows.map((r) => r.first_seq);
    expect(seqs.at(-1)).toBe(301);
    expect(seqs.length).toBeLessThan(301); // some collisions had to go too
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, k) => 302 - seqs.length + k)); // newest kept
    stats = store.stats();
    expect(stats.evictedRecords).toBe(3 + (301 - seqs.length));
    expect(stats.evictedSamples).toBe(appended);
    expect(stats.storedBytes).toBeLessThanOrEqual(QUOTA);
    store.close();
  });
});
