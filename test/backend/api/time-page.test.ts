import { describe, expect, it } from 'vitest';
import { timePage } from '../../../backend/api/routes/telemetry-routes.js';

/** Pages through `times` the way a client follows `next` links: each page re-reads from its `from`. */
function followPages(times: number[], limit: number): number[][] {
  const pages: number[][] = [];
  let from = times[0];
  let skip = 0;
  for (let guard = 0; guard < 100; guard++) {
    const read = times.filter((t) => t >= from).slice(0, skip + limit + 1); // what the store returns from `from`
    const page = timePage(read, (t) => t, skip, limit);
    pages.push(page.kept);
    if (!page.next) return pages;
    ({ fromMs: from, skip } = page.next);
  }
  throw new Error('no last page');
}

describe('time paging (telemetry samples and track)', () => {
  it('neither repeats nor misses samples that share a time across a page boundary', () => {
    const times = [1, 2, 3, 3, 3, 3, 3, 4, 5, 5, 6];
    for (const limit of [1, 2, 3, 4, 5, 10]) {
      const pages = followPages(times, limit);
      expect(pages.flat(), `limit ${limit}`).toEqual(times);
      expect(pages.every((p) => p.length > 0 && p.length <= limit)).toBe(true);
    }
  });

  it('a page whose every sample is at its `from` carries the skip on', () => {
    expect(timePage([7, 7, 7, 7, 8], (t) => t, 2, 2)).toEqual({ kept: [7, 7], next: { fromMs: 8, skip: 0 } });
    expect(timePage([7, 7, 7, 7, 7, 8], (t) => t, 2, 2)).toEqual({ kept: [7, 7], next: { fromMs: 7, skip: 4 } });
  });
});
