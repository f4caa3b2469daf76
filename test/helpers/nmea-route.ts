/**
 * Writes a track (one point per second) as the NMEA 0183 output of a typical multi-constellation
 * receiver: per epoch RMC, VTG, GGA, GSA and GSV sentences with correct checksums, 5-decimal minutes,
 * and (on request) damaged lines at chosen epochs so that readers can be tested on them.
 */
import type { GnssFix } from '../../drivers/gnss/fix-assembler.js';
import { seededRandom } from './seeded-random.js';

/** One point per second of a track: what a receiver would report (altitude above the ellipsoid). */
export type TrackPoint = Pick<GnssFix, 'timeMs' | 'lat' | 'lon' | 'altM' | 'speedKmh' | 'headingDeg'>;

export type Damage = 'checksum' | 'truncated' | 'garbage' | 'bad_field';

export interface NmeaWriteOptions {
  seed?: number;
  /** Geoid separation written in GGA (ellipsoid − MSL). */
  geoidSeparationM?: number;
  /** Epoch index → damage applied to that epoch's GGA (its RMC stays good). */
  damage?: Record<number, Damage>;
  /** Epochs written without a fix (RMC status V, GGA quality 0, empty position). */
  noFix?: number[];
  /** Write only these sentence types (default all: RMC, VTG, GGA, GSA, GSV). */
  only?: ('RMC' | 'GGA' | 'VTG' | 'GSA' | 'GSV')[];
  lineEnding?: string;
}

export interface NmeaWritten {
  text: string;
  /** 1-based line numbers of damaged lines, with the damage. */
  damaged: { line: number; damage: Damage }[];
  /** Number of sentences per type written. */
  counts: Record<string, number>;
}

export function checksumOf(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
  return sum.toString(16).toUpperCase().padStart(2, '0');
}

export function sentence(body: string): string {
  return `$${body}*${checksumOf(body)}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function hhmmss(timeMs: number): string {
  const d = new Date(timeMs);
  const cs = Math.floor(d.getUTCMilliseconds() / 10);
  return `${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}.${pad(cs, 2)}`;
}

function ddmmyy(timeMs: number): string {
  const d = new Date(timeMs);
  return `${pad(d.getUTCDate(), 2)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCFullYear() % 100, 2)}`;
}

/** Degrees → NMEA (d)ddmm.mmmmm and hemisphere. */
export function nmeaAngle(value: number, isLat: boolean): [string, string] {
  const abs = Math.abs(value);
  let deg = Math.floor(abs);
  let minutes = Number(((abs - deg) * 60).toFixed(5));
  if (minutes >= 60) {
    deg += 1;
    minutes -= 60;
  }
  const [mi, mf] = minutes.toFixed(5).split('.');
  const text = `${pad(deg, isLat ? 2 : 3)}${mi.padStart(2, '0')}.${mf}`;
  return [text, isLat ? (value < 0 ? 'S' : 'N') : value < 0 ? 'W' : 'E'];
}

export function writeNmea(track: readonly TrackPoint[], options: NmeaWriteOptions = {}): NmeaWritten {
  const rnd = seededRandom(options.seed ?? 7);
  const sep = options.geoidSeparationM ?? 47.3;
  const types = new Set(options.only ?? ['RMC', 'VTG', 'GGA', 'GSA', 'GSV']);
  const noFix = new Set(options.noFix ?? []);
  const lines: string[] = [];
  const damaged: NmeaWritten['damaged'] = [];
  const counts: Record<string, number> = {};
  const emit = (type: string, line: string): void => {
    counts[type] = (counts[type] ?? 0) + 1;
    lines.push(line);
  };
  let satellites = 14;
  track.forEach((p, epoch) => {
    const fix = !noFix.has(epoch);
    const time = hhmmss(p.timeMs);
    const [lat, ns] = fix ? nmeaAngle(p.lat, true) : ['', ''];
    const [lon, ew] = fix ? nmeaAngle(p.lon, false) : ['', ''];
    const knots = (p.speedKmh / 1.852).toFixed(3);
    const course = fix && p.speedKmh > 1 ? p.headingDeg.toFixed(2) : '';
    satellites = Math.max(6, Math.min(22, satellites + rnd.int(-1, 1)));
    const hdop = (0.6 + rnd.next() * 0.6).toFixed(2);
    if (types.has('RMC')) {
      emit('RMC', sentence(`GNRMC,${time},${fix ? 'A' : 'V'},${lat},${ns},${lon},${ew},${fix ? knots : ''},${course},${ddmmyy(p.timeMs)},,,${fix ? 'A' : 'N'}`));
    }
    if (types.has('VTG')) emit('VTG', sentence(`GNVTG,${course},T,,M,${knots},N,${p.speedKmh.toFixed(3)},K,${fix ? 'A' : 'N'}`));
    if (types.has('GGA')) {
      const alt = fix ? (p.altM - sep).toFixed(1) : '';
      const body = `GNGGA,${time},${lat},${ns},${lon},${ew},${fix ? 1 : 0},${pad(fix ? satellites : 0, 2)},${fix ? hdop : '99.99'},${alt},M,${fix ? sep.toFixed(1) : ''},M,,`;
      const damage = options.damage?.[epoch];
      if (damage) damaged.push({ line: lines.length + 1, damage });
      emit('GGA', damage ? damageLine(body, damage) : sentence(body));
    }
    if (types.has('GSA')) {
      const prns = Array.from({ length: 12 }, (_, i) => (i < Math.min(12, satellites) ? pad(2 + i * 3, 2) : ''));
      emit('GSA', sentence(`GNGSA,A,${fix ? 3 : 1},${prns.join(',')},${(Number(hdop) * 1.6).toFixed(2)},${hdop},${(Number(hdop) * 1.3).toFixed(2)},1`));
    }
    if (types.has('GSV')) {
      const inView = Math.min(12, satellites);
      const messages = Math.ceil(inView / 4);
      for (let m = 0; m < messages; m++) {
        const sats: string[] = [];
        for (let s = m * 4; s < Math.min(inView, m * 4 + 4); s++) {
          sats.push(`${pad(2 + s * 3, 2)},${pad(10 + ((s * 37) % 75), 2)},${pad((s * 97) % 360, 3)},${pad(fix ? 25 + rnd.int(0, 20) : 0, 2)}`);
        }
        emit('GSV', sentence(`GPGSV,${messages},${m + 1},${pad(inView, 2)},${sats.join(',')}`));
      }
    }
  });
  const eol = options.lineEnding ?? '\r\n';
  return { text: lines.join(eol) + eol, damaged, counts };
}

function damageLine(body: string, damage: Damage): string {
  switch (damage) {
    case 'checksum': {
      const good = sentence(body);
      const flipped = good.replace(/,(\d)/, (_, d: string) => `,${(Number(d) + 1) % 10}`);
      return flipped;
    }
    case 'truncated':
      return `$${body.slice(0, Math.floor(body.length / 2))}`;
    case 'garbage':
      return `\u00b5b\u0001\u0007${sentence(body).slice(3)}`;
    case 'bad_field': {
      const parts = body.split(',');
      parts[2] = parts[2].replace(/^(\d\d)\d/, '$1x');
      return sentence(parts.join(','));
    }
  }
}
