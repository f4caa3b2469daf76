/**
 * GGA and RMC data fields → typed values. An empty field (no fix yet) is NaN, not an error;
 * a field that holds something that is not a number is an error naming the field.
 */
import type { NmeaLineError } from './nmea-sentence.js';

const KNOTS_TO_KMH = 1.852;

export interface GgaData {
  /** Milliseconds since UTC midnight. */
  timeOfDayMs: number;
  lat: number;
  lon: number;
  /** 0 = no fix, 1 = GPS, 2 = DGPS, 4 = RTK fixed, 5 = RTK float, 6 = dead reckoning... */
  quality: number;
  satellites: number;
  hdop: number;
  /** Antenna altitude above mean sea level (m). */
  altMslM: number;
  /** Geoid separation (ellipsoid − MSL, m); NaN when the receiver leaves it empty. */
  geoidSeparationM: number;
}

export interface RmcData {
  timeOfDayMs: number;
  /** Status "A" and a mode other than "N" (not valid). */
  valid: boolean;
  lat: number;
  lon: number;
  speedKmh: number;
  /** Course over ground, degrees true; NaN when the receiver leaves it empty (often when stopped). */
  courseDeg: number;
  /** UTC midnight of the fix date, ms since epoch; NaN when empty. */
  dateMs: number;
}

export type Decoded<T> = { ok: true; data: T } | { ok: false; error: NmeaLineError };

class FieldError extends Error {}

function fieldError(type: string, index: number, name: string, value: string, why: string): FieldError {
  return new FieldError(`${type} field ${index + 1} (${name}) "${value}" ${why}`);
}

function num(type: string, fields: string[], index: number, name: string): number {
  const text = fields[index] ?? '';
  if (text === '') return NaN;
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw fieldError(type, index, name, text, 'is not a number');
  return Number(text);
}

/** hhmmss(.sss) → ms since midnight. */
function timeOfDay(type: string, fields: string[], index: number): number {
  const text = fields[index] ?? '';
  if (text === '') return NaN;
  const m = /^(\d{2})(\d{2})(\d{2}(?:\.\d+)?)$/.exec(text);
  if (!m) throw fieldError(type, index, 'UTC time', text, 'is not hhmmss.ss');
  const h = Number(m[1]), min = Number(m[2]), s = Number(m[3]);
  if (h > 23 || min > 59 || s >= 61) throw fieldError(type, index, 'UTC time', text, 'is out of range');
  return Math.round(((h * 60 + min) * 60 + s) * 1000);
}

const LAT_RE = /^(\d{2})(\d{2}(?:\.\d+)?)$/;
const LON_RE = /^(\d{3})(\d{2}(?:\.\d+)?)$/;

/** (d)ddmm.mmmm + hemisphere → signed degrees. */
function angle(type: string, fields: string[], index: number, isLat: boolean): number {
  const name = isLat ? 'latitude' : 'longitude';
  const text = fields[index] ?? '';
  const hemi = fields[index + 1] ?? '';
  if (text === '' && hemi === '') return NaN;
  const m = (isLat ? LAT_RE : LON_RE).exec(text);
  if (!m) throw fieldError(type, index, name, text, `is not ${isLat ? 'ddmm.mmmm' : 'dddmm.mmmm'}`);
  const deg = Number(m[1]);
  const minutes = Number(m[2]);
  if (minutes >= 60 || deg > (isLat ? 90 : 180)) throw fieldError(type, index, name, text, 'is out of range');
  const value = deg + minutes / 60;
  const valid = isLat ? ['N', 'S'] : ['E', 'W'];
  if (!valid.includes(hemi)) throw fieldError(type, index + 1, 'hemisphere', hemi, `is not ${valid.join(' or ')}`);
  return hemi === 'S' || hemi === 'W' ? -value : value;
}

/** ddmmyy → UTC midnight ms. Two-digit years: 80-99 are 19xx, the rest 20xx. */
function date(type: string, fields: string[], index: number): number {
  const text = fields[index] ?? '';
  if (text === '') return NaN;
  const m = /^(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!m) throw fieldError(type, index, 'date', text, 'is not ddmmyy');
  const day = Number(m[1]), month = Number(m[2]), yy = Number(m[3]);
  const ms = Date.UTC(yy >= 80 ? 1900 + yy : 2000 + yy, month - 1, day);
  if (month < 1 || month > 12 || day < 1 || new Date(ms).getUTCDate() !== day) throw fieldError(type, index, 'date', text, 'is not a calendar date');
  return ms;
}

function decode<T>(type: string, fields: string[], minFields: number, read: () => T): Decoded<T> {
  if (fields.length < minFields) {
    return { ok: false, error: { kind: 'bad_field', detail: `${type} has ${fields.length} fields, at least ${minFields} expected` } };
  }
  try {
    return { ok: true, data: read() };
  } catch (err) {
    if (err instanceof FieldError) return { ok: false, error: { kind: 'bad_field', detail: err.message } };
    throw err;
  }
}

/** $--GGA,time,lat,N,lon,E,quality,sats,hdop,alt,M,geoidSep,M,age,station */
export function decodeGga(fields: string[]): Decoded<GgaData> {
  return decode('GGA', fields, 9, () => ({
    timeOfDayMs: timeOfDay('GGA', fields, 0),
    lat: angle('GGA', fields, 1, true),
    lon: angle('GGA', fields, 3, false),
    quality: num('GGA', fields, 5, 'fix quality'),
    satellites: num('GGA', fields, 6, 'satellites'),
    hdop: num('GGA', fields, 7, 'HDOP'),
    altMslM: num('GGA', fields, 8, 'altitude'),
    geoidSeparationM: num('GGA', fields, 10, 'geoid separation'),
  }));
}

/** $--RMC,time,status,lat,N,lon,E,sog(knots),cog,ddmmyy,magvar,E,mode[,navstatus] */
export function decodeRmc(fields: string[]): Decoded<RmcData> {
  return decode('RMC', fields, 9, () => {
    const status = fields[1];
    if (status !== 'A' && status !== 'V') throw fieldError('RMC', 1, 'status', status, 'is not A or V');
    const mode = fields[11] ?? '';
    return {
      timeOfDayMs: timeOfDay('RMC', fields, 0),
      valid: status === 'A' && mode !== 'N',
      lat: angle('RMC', fields, 2, true),
      lon: angle('RMC', fields, 4, false),
      speedKmh: num('RMC', fields, 6, 'speed over ground') * KNOTS_TO_KMH,
      courseDeg: num('RMC', fields, 7, 'course over ground'),
      dateMs: date('RMC', fields, 8),
    };
  });
}

