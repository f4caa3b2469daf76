/** How test/fixtures/nmea/depot-departure.nmea is made: 90 s of the synthetic drive (leaving the depot). */
import { join } from 'node:path';
import { writeNmea, type NmeaWritten, type TrackPoint } from '../helpers/nmea-route.js';
import { syntheticDrive } from '../helpers/synthetic-drive.js';

export const FIXTURE_PATH = join(import.meta.dirname, '..', 'fixtures', 'nmea', 'depot-departure.nmea');

export function fixtureNmea(): NmeaWritten & { track: TrackPoint[]; noFix: number[] } {
  const track = syntheticDrive({ seed: 11 }).track.slice(20, 110);
  const noFix = [0, 1];
  const written = writeNmea(track, { seed: 5, noFix, damage: { 12: 'checksum', 40: 'truncated', 41: 'garbage', 70: 'bad_field' } });
  return { ...written, track, noFix };
}
