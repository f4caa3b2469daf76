/**
 * Trips: one record per ignition cycle (`states.ignition` holds → no longer holds, or its signals
 * fell silent: see ignition.ts), sent when the trip ends. Trips shorter than `minDurationS` (engine
 * started to move the car in a garage) are dropped and counted.
 *
 * Distance: odometer delta when the vehicle has an odometer signal, else the integral of Vehicle.Speed
 * (trapezoids; gaps longer than `maxSpeedGapS` are not bridged); `distanceSource` says which. Without a
 * CAN speed, Vehicle.Speed is the GNSS ground speed (agent/config/sections/gnss.ts).
 * Fuel: a fuel-consumed counter when there is one, else the level drop × tank capacity, with the level
 * averaged over the first and the last `levelAverageS` of the trip (fuel sloshes). Electric energy the
 * same way from an energy counter or state of charge × battery capacity.
 * Average speed is distance / duration (stops included).
 */
import { SlidingWindow } from '../expression/sliding-window.js';
import { DistanceSource, Ignition, toMs, type FeatureContext } from './feature.js';
import { IgnitionRoutedFeature } from './ignition-routed-feature.js';
import type { PositionTracker } from './position-tracker.js';
import type { IPosition } from '../../../proto/gen/roadlink.js';
import { type IgnitionSpec, type TripConfig } from '../../config/sections/feature-settings.js';
import { Priority } from '../../../wire/priority.js';



const SPEED = 0, ODO = 1, FUEL_LEVEL = 2, FUEL_COUNTER = 3, SOC = 4, ENERGY_COUNTER = 5;

/** Mean of a level (%) over the first seconds of a trip, and over the last seconds so far. */
class LevelAverages {
  private startSum = 0;
  private startCount = 0;
  private readonly recent: SlidingWindow;
  private lastUs = NaN;

  constructor(
    private readonly startUs: number,
    private readonly windowUs: number,
  ) {
    this.recent = new SlidingWindow(windowUs);
  }

  push(timeUs: number, value: number): void {
    if (timeUs <= this.startUs + this.windowUs) {
      this.startSum += value;
      this.startCount++;
    }
    this.recent.push(timeUs, value);
    this.lastUs = timeUs;
  }

  /** Level drop from the start to now (NaN without samples). */
  drop(): number {
    if (this.startCount === 0) return NaN;
    return this.startSum / this.startCount - this.recent.mean(this.lastUs);
  }
}

/** First and last value of a monotonic counter over the trip (the last value before the trip counts as the first). */
class CounterDelta {
  last = NaN;
  private atStart = NaN;

  begin(): void {
    this.atStart = this.last;
  }

  update(value: number, active: boolean): void {
    if (active && Number.isNaN(this.atStart)) this.atStart = value;
    this.last = value;
  }

  /** NaN when unknown or when the counter went backwards (reset, replaced ECU). */
  delta(): number {
    const d = this.last - this.atStart;
    return d >= 0 ? d : NaN;
  }
}

export class TripFeature extends IgnitionRoutedFeature {
  readonly name = 'trip';
  readonly counters = { trips: 0, dropped: 0 };
  private active = false;
  private startUs = NaN;
  private departure: IPosition | null = null;
  private readonly odometer = new CounterDelta();
  private readonly fuelCounter = new CounterDelta();
  private readonly energyCounter = new CounterDelta();
  private fuelLevel: LevelAverages | null = null;
  private soc: LevelAverages | null = null;
  private integratedKm = 0;
  private maxSpeedKmh = 0;
  private speed = NaN;
  private speedUs = NaN;

  constructor(
    private readonly ctx: FeatureContext,
    private readonly config: TripConfig,
    ignition: IgnitionSpec,
    private readonly position: PositionTracker,
  ) {
    const s = config.signals;
    super(ctx, ignition, [s.speed, s.odometer, s.fuelLevel, s.fuelConsumed, s.soc, s.energyConsumed]);
  }

  /** A trip is in progress. */
  get inProgress(): boolean {
    return this.active;
  }

  protected onSignal(slot: number, t: number, v: number): void {
    switch (slot) {
      case SPEED:
        this.onSpeed(t, v);
        break;
      case ODO:
        this.odometer.update(v, this.active);
        break;
      case FUEL_COUNTER:
        this.fuelCounter.update(v, this.active);
        break;
      case ENERGY_COUNTER:
        this.energyCounter.update(v, this.active);
        break;
      case FUEL_LEVEL:
        if (this.active) this.fuelLevel!.push(t, v);
        break;
      case SOC:
        if (this.active) this.soc!.push(t, v);
        break;
    }
  }

  protected ignitionChanged(t: number): void {
    const on = this.ignition.state === Ignition.ON;
    if (on && !this.active) this.start(t);
    else if (!on && this.active) this.end(t);
  }

  private onSpeed(t: number, v: number): void {
    if (this.active) {
      const dtS = (t - this.speedUs) / 1e6;
      if (dtS > 0 && dtS <= this.config.maxSpeedGapS) this.integratedKm += (((this.speed + v) / 2) * dtS) / 3600;
      if (v > this.maxSpeedKmh) this.maxSpeedKmh = v;
    }
    this.speed = v;
    this.speedUs = t;
  }

  private start(t: number): void {
    this.active = true;
    this.startUs = t;
    this.departure = this.position.record();
    this.odometer.begin();
    this.fuelCounter.begin();
    this.energyCounter.begin();
    const windowUs = this.config.levelAverageS * 1e6;
    this.fuelLevel = new LevelAverages(t, windowUs);
    this.soc = new LevelAverages(t, windowUs);
    this.integratedKm = 0;
    this.maxSpeedKmh = Number.isNaN(this.speed) ? 0 : this.speed;
    // Integration starts at the trip start with the last known speed (the car is usually still).
    if (!Number.isNaN(this.speedUs)) this.speedUs = t;
  }

  private end(t: number): void {
    this.active = false;
    const durationS = (t - this.startUs) / 1e6;
    if (durationS < this.config.minDurationS) {
      this.counters.dropped++;
      return;
    }
    const odometerKm = this.odometer.delta();
    const byOdometer = !Number.isNaN(odometerKm);
    const distanceKm = byOdometer ? odometerKm : this.integratedKm;
    const departureMs = toMs(this.startUs);
    this.counters.trips++;
    this.ctx.emit({
      kind: 'trip',
      priority: Priority.normal,
      immediate: false,
      timeUs: t,
      trip: {
        tripId: `trip-${departureMs}`,
        departureMs,
        departure: this.departure,
        arrivalMs: toMs(t),
        arrival: this.position.record(),
        distanceKm,
        distanceSource: byOdometer ? DistanceSource.ODOMETER : DistanceSource.INTEGRATED_SPEED,
        durationS: Math.round(durationS),
        maxSpeedKmh: this.maxSpeedKmh,
        avgSpeedKmh: durationS > 0 ? distanceKm / (durationS / 3600) : 0,
        fuelUsedL: consumed(this.fuelCounter, this.fuelLevel, this.config.tankCapacityL),
        energyUsedKwh: consumed(this.energyCounter, this.soc, this.config.batteryCapacityKwh),
      },
    });
  }
}

/** From the counter when it has one, else the level drop (%) × the capacity; 0 when neither is known. */
function consumed(counter: CounterDelta, level: LevelAverages | null, capacity: number | undefined): number {
  const counted = counter.delta();
  if (!Number.isNaN(counted)) return counted;
  const drop = level?.drop() ?? NaN;
  return capacity !== undefined && drop > 0 ? (drop / 100) * capacity : 0;
}
