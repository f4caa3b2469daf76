/**
 * Text in (chunks from a serial device or a file) → position fixes out. Splits lines, numbers them,
 * verifies and decodes GGA/RMC, counts everything else. Never throws on input: a bad line is counted
 * under its reason and remembered with its line number (the last few, for `roadlink` status output).
 */
import { FixAssembler, type GnssFix } from './fix-assembler.js';
import { decodeGga, decodeRmc } from './nmea-position.js';
import { parseSentence, type NmeaLineError } from './nmea-sentence.js';

/** A buffered partial line longer than this is binary noise, not NMEA: it is dropped and counted. */
const MAX_PARTIAL = 4096;
const RECENT_ERRORS = 20;

export interface NmeaBadLine {
  /** `source:line`, e.g. `/dev/ttyUSB0:1234` */
  where: string;
  line: number;
  kind: NmeaLineError['kind'];
  reason: string;
  /** The start of the offending line (at most 100 characters). */
  text: string;
}

export interface NmeaStats {
  source: string;
  lines: number;
  /** Sentences with a good checksum. */
  sentences: number;
  /** Good sentences of types the driver does not use (GSA, GSV, VTG, proprietary...). */
  unsupported: number;
  bad: number;
  badByKind: Partial<Record<NmeaLineError['kind'], number>>;
  recentBad: NmeaBadLine[];
  fixes: number;
  noFix: number;
}

export class NmeaReader {
  private readonly assembler: FixAssembler;
  private readonly counts: Omit<NmeaStats, 'fixes' | 'noFix'>;
  private partial = '';
  /** Line number within the current pass over the source (a looped replay starts again at 1). */
  private lineNo = 0;

  constructor(source: string, onFix: (fix: GnssFix) => void, nowMs: () => number = Date.now) {
    this.assembler = new FixAssembler(onFix, nowMs);
    this.counts = { source, lines: 0, sentences: 0, unsupported: 0, bad: 0, badByKind: {}, recentBad: [] };
  }

  get stats(): NmeaStats {
    return { ...this.counts, badByKind: { ...this.counts.badByKind }, recentBad: [...this.counts.recentBad], ...this.assembler.counters };
  }

  /** Feeds raw text; lines may be split anywhere across chunks. */
  push(chunk: string): void {
    let text = this.partial + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      this.line(text.slice(start, nl));
      start = nl + 1;
    }
    text = text.slice(start);
    if (text.length > MAX_PARTIAL) {
      this.line(text); // counted as too long
      text = '';
    }
    this.partial = text;
  }

  /** End of input: the last line without a terminator is still a line; a pending epoch is delivered. */
  end(): void {
    if (this.partial !== '') this.line(this.partial);
    this.partial = '';
    this.assembler.flush();
  }

  /** The source starts again from its beginning (looped replay, reopened device): lines are numbered from 1. */
  rewind(): void {
    this.end();
    this.lineNo = 0;
  }

  /** Processes one line (the terminator may include "\r"). */
  line(raw: string): void {
    this.counts.lines++;
    const lineNo = ++this.lineNo;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') return;
    const parsed = parseSentence(text);
    if (!parsed.ok) return this.bad(lineNo, text, parsed.error);
    this.counts.sentences++;
    const { type, fields, talker } = parsed.sentence;
    if (talker === 'P' || (type !== 'GGA' && type !== 'RMC')) {
      this.counts.unsupported++;
      return;
    }
    if (type === 'GGA') {
      const gga = decodeGga(fields);
      if (!gga.ok) return this.bad(lineNo, text, gga.error);
      this.assembler.gga(gga.data);
    } else {
      const rmc = decodeRmc(fields);
      if (!rmc.ok) return this.bad(lineNo, text, rmc.error);
      this.assembler.rmc(rmc.data);
    }
  }

  private bad(line: number, text: string, error: NmeaLineError): void {
    const c = this.counts;
    c.bad++;
    c.badByKind[error.kind] = (c.badByKind[error.kind] ?? 0) + 1;
    c.recentBad.push({ where: `${c.source}:${line}`, line, kind: error.kind, reason: error.detail, text: text.slice(0, 100) });
    if (c.recentBad.length > RECENT_ERRORS) c.recentBad.shift();
  }
}
