/**
 * How GNSS fixes enter the agent: as samples of the vehicle's own signal names (COVESA VSS), so that
 * rules and features do not care where a position came from. The engine's signal table
 * (agent/config/config.ts, vehicleSignalNames) gives GNSS only the names the CAN catalog does not
 * provide: a vehicle with a CAN position keeps it. Pass an `idOf` that returns -1 for those.
 */
import { growSampleBatch, type SampleBatch } from '../../agent/decode/sample-batch.js';
import type { GnssFix } from './fix-assembler.js';
import { GNSS_FIX_SIGNALS, type GnssFixField } from './gnss-signal-names.js';



/**
 * Horizontal accuracy is estimated as HDOP × a typical user equivalent range error (m). It is an
 * order of magnitude, not a confidence bound: NMEA GGA/RMC carry no accuracy in metres (GST would).
 */
export const UERE_M = 4;

/** Frame index written in SampleBatch.frame for GNSS samples (they come from no CAN frame). */
export const NO_FRAME = 0xffffffff;

export type GnssSignalIds = Record<GnssFixField, number>;

/** Signal id per fix field (-1: not fed from GNSS). */
export function gnssSignalIds(idOf: (name: string) => number): GnssSignalIds {
  return {
    lat: idOf(GNSS_FIX_SIGNALS.lat),
    lon: idOf(GNSS_FIX_SIGNALS.lon),
    altM: idOf(GNSS_FIX_SIGNALS.altM),
    headingDeg: idOf(GNSS_FIX_SIGNALS.headingDeg),
    horizontalAccuracyM: idOf(GNSS_FIX_SIGNALS.horizontalAccuracyM),
    speedKmh: idOf(GNSS_FIX_SIGNALS.speedKmh),
  };
}

/** Appends the fix's known values to `batch`, all at the fix time (ids < 0 and NaN values are skipped). */
export function appendFixSamples(fix: GnssFix, ids: GnssSignalIds, batch: SampleBatch): void {
  if (batch.count + 6 > batch.capacity) growSampleBatch(batch, batch.count + 6);
  const timeUs = fix.timeMs * 1000;
  const put = (id: number, value: number): void => {
    if (id < 0 || Number.isNaN(value)) return;
    const k = batch.count++;
    batch.signal[k] = id;
    batch.value[k] = value;
    batch.timeUs[k] = timeUs;
    batch.frame[k] = NO_FRAME;
  };
  put(ids.lat, fix.lat);
  put(ids.lon, fix.lon);
  put(ids.altM, fix.altM);
  put(ids.headingDeg, fix.headingDeg);
  put(ids.horizontalAccuracyM, fix.hdop * UERE_M);
  put(ids.speedKmh, fix.speedKmh);
}
