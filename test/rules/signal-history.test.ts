import { describe, expect, it } from 'vitest';
import { SignalHistory } from '../../agent/rules/signal-history.js';

const S = 1_000_000;

describe('SignalHistory', () => {
  it('keeps only tracked signals and returns windows with inclusive bounds, oldest first', () => {
    const history = new SignalHistory(3);
    history.retain(0, 10);
    history.retain(2, 10);
    for (let i = 0; i < 20; i++) {
      history.record(0, i * S, i);
      history.record(1, i * S, 100 + i);
      history.record(2, i * S + 500, -i);
    }
    const w = history.window([2, 1, 0], 5 * S, 8 * S);
    expect(w.signals).toEqual([2, 1, 0]);
    expect([...w.timeUs[2]]).toEqual([5 * S, 6 * S, 7 * S, 8 * S]);
    expect([...w.value[2]]).toEqual([5, 6, 7, 8]);
    expect([...w.value[0]]).toEqual([-5, -6, -7]); // signal 2 samples sit 500 µs after each second
    expect(w.value[1].length).toBe(0); // signal 1 is not tracked
    expect(history.count(1)).toBe(0);
  });

  it('grows while the oldest sample is inside the retention, then overwrites what is older', () => {
    const history = new SignalHistory(1, { initialSamples: 4 });
    history.retain(0, 1); // one second
    // 100 Hz for 5 s: the ring must hold about 101 samples, not 500, and never drop one inside 1 s.
    for (let i = 0; i < 500; i++) history.record(0, i * 10_000, i);
    expect(history.dropped(0)).toBe(0);
    expect(history.count(0)).toBeGreaterThanOrEqual(101);
    expect(history.count(0)).toBeLessThanOrEqual(256);
    const w = history.window([0], 499 * 10_000 - S, 499 * 10_000);
    expect(w.value[0].length).toBe(101);
    expect(w.value[0][0]).toBe(399);
    expect(w.value[0][100]).toBe(499);
  });

  it('counts samples lost inside the retention when a ring reaches its bound', () => {
    const history = new SignalHistory(1, { initialSamples: 4, maxSamplesPerSignal: 8 });
    history.retain(0, 60);
    for (let i = 0; i < 20; i++) history.record(0, i * S, i);
    expect(history.count(0)).toBe(8);
    expect(history.dropped(0)).toBe(12);
    expect([...history.window([0], 0, 100 * S).value[0]]).toEqual([12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it('keeps the longest retention requested and refuses ids outside the table', () => {
    const history = new SignalHistory(2);
    history.retain(1, 5);
    history.retain(1, 2);
    expect(history.retainedSeconds(1)).toBe(5);
    expect(() => history.retain(2, 1)).toThrow(/outside the signal table/);
    history.resize(3);
    history.retain(2, 1);
    expect(history.isTracked(2)).toBe(true);
  });
});
