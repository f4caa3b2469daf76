/**
 * The vehicle's current position, shared by the features: Vehicle.CurrentLocation.* and Vehicle.Speed,
 * whether they come from decoded CAN signals or from the GNSS driver (the agent feeds both the same way;
 * `FeatureContext.positionSource` says which). Latitude and longitude arrive as two samples: a fix is
 * complete when both have been updated, and listeners hear about every fix (geofences need each one).
 */
import type { IPosition } from '../../../proto/gen/roadlink.js';
import { PositionSource, toMs, type FeatureContext, type PositionSourceValue } from './feature.js';
import { RoutedFeature } from './routed-feature.js';
import { SignalSlots } from './signal-slots.js';

export const POSITION_SIGNALS = {
  lat: 'Vehicle.CurrentLocation.Latitude',
  lon: 'Vehicle.CurrentLocation.Longitude',
  alt: 'Vehicle.CurrentLocation.Altitude',
  heading: 'Vehicle.CurrentLocation.Heading',
  speed: 'Vehicle.Speed',
} as const;

/** CAN when the decoded catalog has latitude and longitude (the vehicle's own GNSS), else the GNSS driver. */
export function positionSourceFor(canSignals: ReadonlySet<string>): PositionSourceValue {
  return canSignals.has(POSITION_SIGNALS.lat) && canSignals.has(POSITION_SIGNALS.lon) ? PositionSource.CAN : PositionSource.GNSS;
}

const LAT = 0, LON = 1, ALT = 2, HEADING = 3, SPEED = 4;

export type FixListener = (timeUs: number, lat: number, lon: number) => void;

export class PositionTracker extends RoutedFeature {
  readonly name = 'position';
  lat = NaN;
  lon = NaN;
  altM = NaN;
  headingDeg = NaN;
  speedKmh = NaN;
  speedTimeUs = NaN;
  /** Time of the last complete fix (µs). */
  fixTimeUs = NaN;
  private readonly source: PositionSourceValue;
  private readonly listeners: FixListener[] = [];
  private pendingLat = NaN;
  private pendingLon = NaN;
  private latUs = NaN;
  private lonUs = NaN;

  constructor(ctx: FeatureContext, names: typeof POSITION_SIGNALS = POSITION_SIGNALS) {
    super();
    this.source = ctx.positionSource;
    this.slots = new SignalSlots([names.lat, names.lon, names.alt, names.heading, names.speed].map((n) => ctx.signalId(n)));
  }

  get known(): boolean {
    return !Number.isNaN(this.fixTimeUs);
  }

  onFix(listener: FixListener): void {
    this.listeners.push(listener);
  }

  protected onSample(slot: number, t: number, v: number): void {
    switch (slot) {
      case LAT:
        if (v < -90 || v > 90) break;
        this.pendingLat = v;
        this.latUs = t;
        this.completeFix();
        break;
      case LON:
        if (v < -180 || v > 180) break;
        this.pendingLon = v;
        this.lonUs = t;
        this.completeFix();
        break;
      case ALT:
        this.altM = v;
        break;
      case HEADING:
        this.headingDeg = v;
        break;
      case SPEED:
        this.speedKmh = v;
        this.speedTimeUs = t;
        break;
    }
  }

  /** The current position as a roadlink.v1.Position (null before the first fix). Allocates: for records. */
  record(): IPosition | null {
    if (!this.known) return null;
    return {
      lat: this.lat,
      lon: this.lon,
      altM: Number.isNaN(this.altM) ? 0 : this.altM,
      headingDeg: Number.isNaN(this.headingDeg) ? 0 : this.headingDeg,
      speedKmh: Number.isNaN(this.speedKmh) ? 0 : this.speedKmh,
      timeMs: toMs(this.fixTimeUs),
      source: this.source,
    };
  }

  private completeFix(): void {
    if (this.pendingLat !== this.pendingLat || this.pendingLon !== this.pendingLon) return;
    // (0, 0) is what many ECUs send without a fix.
    if (this.pendingLat === 0 && this.pendingLon === 0) {
      this.pendingLat = this.pendingLon = NaN;
      return;
    }
    const t = Math.max(this.latUs, this.lonUs);
    this.lat = this.pendingLat;
    this.lon = this.pendingLon;
    this.fixTimeUs = t;
    this.pendingLat = this.pendingLon = NaN;
    for (let k = 0; k < this.listeners.length; k++) this.listeners[k](t, this.lat, this.lon);
  }
}
