/**
 * The committed NMEA fixture is the output of the generator (so it can be regenerated after a change:
 * REGENERATE_FIXTURES=1 npx vitest run test/gnss/fixture.test.ts), and reads back to the drive's track.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NmeaReader } from '../../drivers/gnss/nmea-reader.js';
import { distanceM } from '../../agent/rules/features/geo.js';
import { fixtureNmea, FIXTURE_PATH } from './fixture.js';

describe('NMEA fixture', () => {
  const generated = fixtureNmea();

  it('is what the generator writes', () => {
    if (process.env.REGENERATE_FIXTURES) writeFileSync(FIXTURE_PATH, generated.text, 'latin1');
    expect(readFileSync(FIXTURE_PATH, 'latin1'), 'fixture out of date: REGENERATE_FIXTURES=1 npx vitest run test/gnss/fixture.test.ts').toBe(generated.text);
  });

  it('reads back to the track, with its damaged lines reported where they are', () => {
    const fixes: { lat: number; lon: number; timeMs: number }[] = [];
    const reader = new NmeaReader(FIXTURE_PATH, (f) => fixes.push(f));
    reader.push(readFileSync(FIXTURE_PATH, 'latin1'));
    reader.end();
    const good = generated.track.filter((_, i) => !generated.noFix.includes(i));
    expect(fixes).toHaveLength(good.length);
    fixes.forEach((f, i) => {
      expect(f.timeMs).toBe(good[i].timeMs);
      expect(distanceM(f.lat, f.lon, good[i].lat, good[i].lon)).toBeLessThan(0.03);
    });
    expect(reader.stats.recentBad.map((b) => `${b.where} ${b.kind}`)).toEqual(
      generated.damaged.map((d) => `${join(FIXTURE_PATH)}:${d.line} ${{ checksum: 'bad_checksum', truncated: 'missing_checksum', garbage: 'no_start', bad_field: 'bad_field' }[d.damage]}`),
    );
  });
});
