import { describe, expect, it } from 'vitest';
import { EpochSequences } from '../../backend/epoch-sequences.js';
import { SequenceTracker } from '../../backend/sequence-tracker.js';

describe('SequenceTracker', () => {
  it('reports a gap on arrival and fills it later', () => {
    const t = new SequenceTracker();
    expect(t.add(1, 10)).toEqual({ duplicates: 0 });
    expect(t.add(21, 5)).toEqual({ duplicates: 0, gap: [11, 20] });
    expect(t.summary().holes).toEqual([[11, 20]]);
    expect(t.add(11, 10)).toEqual({ duplicates: 0 });
    expect(t.summary()).toEqual({ received: 25, duplicates: 0, first: 1, last: 25, holes: [] });
  });

  it('counts overlap with what arrived as duplicates', () => {
    const t = new SequenceTracker();
    t.add(1, 10);
    t.add(20, 10);
    expect(t.add(5, 20)).toEqual({ duplicates: 11 }); // 5..10 and 20..24 were there
    expect(t.summary()).toEqual({ received: 29, duplicates: 11, first: 1, last: 29, holes: [] });
  });

  it('agrees with a plain set on random arrivals', () => {
    let state = 12345;
    const random = (n: number) => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % n;
    };
    const t = new SequenceTracker();
    const seen = new Set<number>();
    let duplicates = 0;
    for (let i = 0; i < 2000; i++) {
      const first = 1 + random(3000);
      const count = 1 + random(20);
      let dup = 0;
      for (let s = first; s < first + count; s++) {
        if (seen.has(s)) dup++;
        else seen.add(s);
      }
      duplicates += dup;
      expect(t.add(first, count).duplicates).toBe(dup);
    }
    const sorted = [...seen].sort((a, b) => a - b);
    const holes: [number, number][] = [];
    for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1] + 1) holes.push([sorted[i - 1] + 1, sorted[i] - 1]);
    expect(t.summary()).toEqual({ received: seen.size, duplicates, first: sorted[0], last: sorted[sorted.length - 1], holes });
  });
});

describe('EpochSequences', () => {
  it('opens a new space per epoch, reported once; late messages of an earlier epoch stay in theirs', () => {
    const s = new EpochSequences();
    expect(s.add('', 1, 10)).toEqual({ duplicates: 0 });
    expect(s.add('a', 1, 10)).toEqual({ duplicates: 0, newEpoch: { epoch: 'a', previous: '' } });
    expect(s.add('b', 1, 5)).toEqual({ duplicates: 0, newEpoch: { epoch: 'b', previous: 'a' } });
    expect(s.add('a', 5, 10)).toEqual({ duplicates: 6 }); // a re-send of epoch a: duplicates there
    expect(s.add('b', 6, 5)).toEqual({ duplicates: 0 });
    expect(s.summary()).toEqual({
      epoch: 'b', received: 10, duplicates: 0, first: 1, last: 10, holes: [],
      earlier: { '': { received: 10, duplicates: 0, first: 1, last: 10, holes: [] }, a: { received: 14, duplicates: 6, first: 1, last: 14, holes: [] } },
    });
  });

  it('summarises a stream without epochs as before', () => {
    const s = new EpochSequences();
    s.add('', 1, 3);
    expect(s.summary()).toEqual({ received: 3, duplicates: 0, first: 1, last: 3, holes: [] });
  });
});
