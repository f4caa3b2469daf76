/**
 * Merges the GGA and RMC sentences of one epoch (same UTC time) into one position fix.
 * A receiver sends both once per epoch in either order; a fix is delivered as soon as both have
 * arrived, or when the next epoch starts (streams that carry only one of the two).
 */
import type { GgaData, RmcData } from './nmea-position.js';

const DAY_MS = 86_400_000;

/** A position fix as the GNSS driver produces it. Unknown values are NaN. */
export interface GnssFix {
  /** UTC time of the fix, ms since epoch. */
  timeMs: number;
  lat: number;
  lon: number;
  /** Height above the WGS84 ellipsoid (GGA altitude + geoid separation), m. */
  altM: number;
  speedKmh: number;
  /** Course over ground, degrees clockwise from true north. */
  headingDeg: number;
  /** GGA fix quality (0 none, 1 GPS, 2 DGPS, 4/5 RTK, 6 estimated); NaN without GGA. */
  quality: number;
  satellites: number;
  hdop: number;
}

export interface AssemblerCounters {
  fixes: number;
  /** Epochs that carried no valid position (RMC status V, GGA quality 0, empty fields). */
  noFix: number;
}

interface Pending {
  timeOfDayMs: number;
  gga: GgaData | null;
  rmc: RmcData | null;
}

export class FixAssembler {
  readonly counters: AssemblerCounters = { fixes: 0, noFix: 0 };
  private pending: Pending | null = null;
  private lastDoneTimeOfDay = NaN;
  /** UTC midnight of the current date, from the last RMC; GGA-only streams use it (or today). */
  private dateMs = NaN;
  private lastTimeOfDay = NaN;

  constructor(
    private readonly deliver: (fix: GnssFix) => void,
    private readonly nowMs: () => number = Date.now,
  ) {}

  gga(data: GgaData): void {
    this.slot(data.timeOfDayMs).gga = data;
    this.completeIfFull();
  }

  rmc(data: RmcData): void {
    if (!Number.isNaN(data.dateMs)) this.dateMs = data.dateMs;
    this.slot(data.timeOfDayMs).rmc = data;
    this.completeIfFull();
  }

  /** Delivers what is pending (end of stream). */
  flush(): void {
    const p = this.pending;
    this.pending = null;
    if (p) this.complete(p);
  }

  private slot(timeOfDayMs: number): Pending {
    if (this.pending && this.pending.timeOfDayMs !== timeOfDayMs) this.flush();
    if (!this.pending) this.pending = { timeOfDayMs, gga: null, rmc: null };
    return this.pending;
  }

  private completeIfFull(): void {
    if (this.pending?.gga && this.pending.rmc) this.flush();
  }

  private complete(p: Pending): void {
    // A sentence of an epoch already delivered (e.g. a second GGA) must not produce a second fix.
    if (p.timeOfDayMs === this.lastDoneTimeOfDay) return;
    this.lastDoneTimeOfDay = p.timeOfDayMs;
    const { gga, rmc } = p;
    const valid = (rmc ? rmc.valid : true) && (gga ? gga.quality > 0 : true);
    const lat = rmc && !Number.isNaN(rmc.lat) ? rmc.lat : gga?.lat ?? NaN;
    const lon = rmc && !Number.isNaN(rmc.lon) ? rmc.lon : gga?.lon ?? NaN;
    const timeMs = this.fixTime(p.timeOfDayMs, rmc);
    if (!valid || Number.isNaN(lat) || Number.isNaN(lon) || Number.isNaN(timeMs)) {
      this.counters.noFix++;
      return;
    }
    const sep = gga && !Number.isNaN(gga.geoidSeparationM) ? gga.geoidSeparationM : 0;
    this.counters.fixes++;
    this.deliver({
      timeMs,
      lat,
      lon,
      altM: gga ? gga.altMslM + sep : NaN,
      speedKmh: rmc ? rmc.speedKmh : NaN,
      headingDeg: rmc ? rmc.courseDeg : NaN,
      quality: gga ? gga.quality : NaN,
      satellites: gga ? gga.satellites : NaN,
      hdop: gga ? gga.hdop : NaN,
    });
  }

  /** Date from this epoch's RMC, else the last RMC date (rolled over at midnight), else today (host clock). */
  private fixTime(timeOfDayMs: number, rmc: RmcData | null): number {
    if (Number.isNaN(timeOfDayMs)) return NaN;
    if (!(rmc && !Number.isNaN(rmc.dateMs))) {
      if (Number.isNaN(this.dateMs)) this.dateMs = Math.floor(this.nowMs() / DAY_MS) * DAY_MS;
      else if (timeOfDayMs + DAY_MS / 2 < this.lastTimeOfDay) this.dateMs += DAY_MS;
    }
    this.lastTimeOfDay = timeOfDayMs;
    return this.dateMs + timeOfDayMs;
  }
}
