import { describe, expect, it } from 'vitest';
import type { GnssFix } from '../../drivers/gnss/fix-assembler.js';
import { NmeaReader } from '../../drivers/gnss/nmea-reader.js';
import { nmeaChecksum, parseSentence } from '../../drivers/gnss/nmea-sentence.js';
import { distanceM } from '../../agent/rules/features/geo.js';
import { sentence, writeNmea, type TrackPoint } from '../helpers/nmea-route.js';
import { syntheticDrive } from '../helpers/synthetic-drive.js';

function read(text: string, chunkSize = text.length): { fixes: GnssFix[]; reader: NmeaReader } {
  const fixes: GnssFix[] = [];
  const reader = new NmeaReader('test.nmea', (f) => fixes.push(f), () => Date.UTC(2030, 0, 1));
  for (let i = 0; i < text.length; i += chunkSize) reader.push(text.slice(i, i + chunkSize));
  reader.end();
  return { fixes, reader };
}

const drive = syntheticDrive({ seed: 3 });
/** 5 minutes of the drive: departure, the depot gate stop, city driving. */
const track: TrackPoint[] = drive.track.slice(20, 320);

describe('NMEA sentence', () => {
  it('verifies checksums of real receiver sentences', () => {
    // From the NMEA 0183 examples of u-blox and SiRF manuals.
    const rmc = '$GPRMC,083559.00,A,4717.11437,N,00833.91522,E,0.004,77.52,091202,,,A*57';
    const ok = parseSentence(rmc);
    expect(ok.ok).toBe(true);
    expect(nmeaChecksum(rmc.slice(1, rmc.indexOf('*')))).toBe(0x57);
    const bad = parseSentence(rmc.replace('4717', '4718'));
    expect(bad).toMatchObject({ ok: false, error: { kind: 'bad_checksum' } });
    expect(parseSentence('GPRMC,1*00')).toMatchObject({ ok: false, error: { kind: 'no_start' } });
    expect(parseSentence('$GPRMC,083559.00,A')).toMatchObject({ ok: false, error: { kind: 'missing_checksum' } });
    expect(parseSentence(sentence('G,1'))).toMatchObject({ ok: false, error: { kind: 'bad_address' } });
  });
});

describe('NMEA reader', () => {
  it('reads a generated drive back: every epoch one fix, equal to the track to NMEA precision', () => {
    const written = writeNmea(track);
    const { fixes, reader } = read(written.text);
    expect(fixes).toHaveLength(track.length);
    const stats = reader.stats;
    expect(stats.bad).toBe(0);
    expect(stats.unsupported).toBe(written.counts.VTG + written.counts.GSA + written.counts.GSV);
    fixes.forEach((fix, i) => {
      const p = track[i];
      expect(fix.timeMs).toBe(p.timeMs);
      // 5-decimal minutes: 1e-5 / 60 degrees = 1.9 cm of latitude.
      expect(distanceM(fix.lat, fix.lon, p.lat, p.lon)).toBeLessThan(0.03);
      expect(fix.speedKmh).toBeCloseTo(p.speedKmh, 2);
      if (p.speedKmh > 1) expect(fix.headingDeg).toBeCloseTo(p.headingDeg, 2);
      else expect(fix.headingDeg).toBeNaN();
      expect(fix.altM).toBeCloseTo(p.altM, 0);
      expect(fix.quality).toBe(1);
    });
  });

  it('gives the same fixes whatever the chunking (lines split across reads)', () => {
    const text = writeNmea(track.slice(0, 30)).text;
    const whole = read(text).fixes;
    for (const size of [1, 7, 64, 333]) expect(read(text, size).fixes).toEqual(whole);
  });

  it('counts damaged lines by kind with their line numbers, keeps going, and still uses the good RMC of a damaged epoch', () => {
    const damage = { 3: 'checksum', 10: 'truncated', 17: 'garbage', 25: 'bad_field' } as const;
    const written = writeNmea(track.slice(0, 40), { damage, lineEnding: '\n' });
    const { fixes, reader } = read(written.text);
    const stats = reader.stats;
    expect(stats.bad).toBe(4);
    expect(stats.badByKind).toEqual({ bad_checksum: 1, missing_checksum: 1, no_start: 1, bad_field: 1 });
    expect(stats.recentBad.map((b) => b.line)).toEqual(written.damaged.map((d) => d.line));
    expect(stats.recentBad[0].where).toBe(`test.nmea:${written.damaged[0].line}`);
    expect(stats.recentBad[3].reason).toMatch(/GGA field 2 \(latitude\)/);
    // Each damaged epoch still has its RMC: a fix without altitude.
    expect(fixes).toHaveLength(40);
    for (const epoch of Object.keys(damage).map(Number)) {
      expect(fixes[epoch].altM).toBeNaN();
      expect(fixes[epoch].lat).toBeCloseTo(track[epoch].lat, 6);
    }
  });

  it('reports no position for epochs without a fix', () => {
    const { fixes, reader } = read(writeNmea(track.slice(0, 10), { noFix: [0, 1, 2] }).text);
    expect(fixes).toHaveLength(7);
    expect(reader.stats.noFix).toBe(3);
    expect(fixes[0].timeMs).toBe(track[3].timeMs);
  });

  it('dates a GGA-only stream from the last RMC date and rolls over at midnight', () => {
    const base = Date.UTC(2024, 5, 30, 23, 59, 58);
    const points: TrackPoint[] = [0, 1, 2, 3, 4].map((k) => ({ timeMs: base + k * 1000, lat: 48.1, lon: 2.2, altM: 100, speedKmh: 10, headingDeg: 90 }));
    const rmcFirst = writeNmea(points.slice(0, 1), { only: ['RMC', 'GGA'] }).text + writeNmea(points.slice(1), { only: ['GGA'] }).text;
    const { fixes } = read(rmcFirst);
    expect(fixes.map((f) => f.timeMs)).toEqual(points.map((p) => p.timeMs));
    expect(fixes[1].speedKmh).toBeNaN();
    expect(new Date(fixes[4].timeMs).toISOString()).toBe('2024-07-01T00:00:02.000Z');
  });

  it('never throws on arbitrary bytes and counts them', () => {
    let seed = 99;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const noise = Array.from({ length: 20_000 }, () => String.fromCharCode(Math.floor(rnd() * 256))).join('');
    const text = noise + '\n' + writeNmea(track.slice(0, 5)).text + noise.slice(0, 5000).replace(/\n/g, '') + 'x'.repeat(5000);
    const { fixes, reader } = read(text, 97);
    expect(fixes).toHaveLength(5);
    expect(reader.stats.bad).toBeGreaterThan(0);
    expect(reader.stats.badByKind.too_long).toBeGreaterThan(0);
  });
});
