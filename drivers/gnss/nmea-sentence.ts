/**
 * One NMEA 0183 line → address (talker + formatter) and fields, with the checksum verified.
 * Never throws: a bad line comes back as a reason that the reader counts with its line number.
 */

/** Longest line accepted. The standard says 82 characters; some receivers send longer proprietary lines. */
export const MAX_SENTENCE_LENGTH = 200;

export interface NmeaSentence {
  /** "GP", "GN", "GL", "GA", "GB", "BD"...; "P" for proprietary sentences. */
  talker: string;
  /** Sentence formatter: "GGA", "RMC"... */
  type: string;
  /** The comma-separated data fields after the address, checksum removed. */
  fields: string[];
}

/** Why a line was refused; `kind` is the counter key, `detail` the human-readable reason. */
export interface NmeaLineError {
  kind: 'no_start' | 'too_long' | 'not_ascii' | 'missing_checksum' | 'bad_checksum' | 'bad_address' | 'bad_field';
  detail: string;
}

export type SentenceResult = { ok: true; sentence: NmeaSentence } | { ok: false; error: NmeaLineError };

function fail(kind: NmeaLineError['kind'], detail: string): SentenceResult {
  return { ok: false, error: { kind, detail } };
}

/** XOR of the characters between `$` and `*` (exclusive), as NMEA 0183 defines the checksum. */
export function nmeaChecksum(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
  return sum;
}

/** Parses one line (without its line terminator). */
export function parseSentence(line: string): SentenceResult {
  if (line.length > MAX_SENTENCE_LENGTH) return fail('too_long', `line is ${line.length} characters (at most ${MAX_SENTENCE_LENGTH})`);
  if (line.charCodeAt(0) !== 0x24 /* $ */) {
    const at = line.indexOf('$');
    return fail('no_start', at < 0 ? 'no "$" sentence start' : `${at} stray characters before "$"`);
  }
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return fail('not_ascii', `character code ${c} at column ${i + 1}`);
  }
  const star = line.lastIndexOf('*');
  if (star < 0) return fail('missing_checksum', 'no "*hh" checksum');
  const hex = line.slice(star + 1);
  if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return fail('missing_checksum', `checksum "${hex}" is not two hex digits`);
  const body = line.slice(1, star);
  const expected = nmeaChecksum(body);
  const got = parseInt(hex, 16);
  if (got !== expected) {
    return fail('bad_checksum', `checksum ${hex.toUpperCase()} but the sentence sums to ${expected.toString(16).toUpperCase().padStart(2, '0')}`);
  }
  const parts = body.split(',');
  const address = parts[0];
  if (address.length < 2 || !/^[A-Z0-9]+$/.test(address)) return fail('bad_address', `address "${address}" is not a talker and sentence type`);
  const proprietary = address[0] === 'P';
  if (!proprietary && address.length !== 5) return fail('bad_address', `address "${address}" is not 2 talker + 3 type characters`);
  return {
    ok: true,
    sentence: {
      talker: proprietary ? 'P' : address.slice(0, 2),
      type: proprietary ? address.slice(1) : address.slice(2),
      fields: parts.slice(1),
    },
  };
}
