/**
 * Maintenance: days and distance left before the next service, from the vehicle's service signals
 * (VSS Vehicle.Service.TimeToService [s], DistanceToService [km]) or, without them, from the config
 * (next service date, next service odometer reading, with the odometer signal).
 *
 * Sent every `periodS` (low priority), and when a value crosses one of the thresholds downwards
 * (e.g. 1000 km, 30 days, 0 = due). A threshold fires once; it re-arms only when the value goes
 * back above it by a margin (a service resets the counters). The first value seen only sets the
 * state: thresholds already passed then are not reported as crossings (the periodic report carries them).
 */
import { type FeatureContext } from './feature.js';
import { RoutedFeature } from './routed-feature.js';
import { SignalSlots } from './signal-slots.js';
import { type MaintenanceConfig } from '../../config/sections/feature-settings.js';
import { Priority } from '../../../wire/priority.js';

const DAY_US = 86_400e6;



const DISTANCE = 0, TIME = 1, ODOMETER = 2;

/** Downward crossings of a set of thresholds, each firing once until re-armed. */
class ThresholdSet {
  private readonly armed: boolean[];
  private last = NaN;

  constructor(
    readonly thresholds: readonly number[],
    private readonly rearmMargin: number,
  ) {
    this.armed = thresholds.map(() => false);
  }

  /** The lowest threshold crossed by this value, or undefined. */
  update(value: number): number | undefined {
    let crossed: number | undefined;
    const first = Number.isNaN(this.last);
    this.thresholds.forEach((limit, k) => {
      if (value > limit + this.rearmMargin) this.armed[k] = true;
      else if (first && value > limit) this.armed[k] = true;
      else if (value <= limit && this.armed[k]) {
        this.armed[k] = false;
        if (crossed === undefined || limit < crossed) crossed = limit;
      }
    });
    this.last = value;
    return crossed;
  }
}

export class MaintenanceFeature extends RoutedFeature {
  readonly name = 'maintenance';
  private readonly distanceSet: ThresholdSet;
  private readonly daySet: ThresholdSet;
  private distanceKm = NaN;
  private days = NaN;
  private lastReportUs = -Infinity;
  private readonly hasTimeSignal: boolean;
  private readonly hasDistanceSignal: boolean;

  constructor(
    private readonly ctx: FeatureContext,
    private readonly config: MaintenanceConfig,
  ) {
    super();
    const ids = [config.distanceSignal, config.timeSignal, config.odometerSignal].map((n) => ctx.signalId(n));
    this.hasDistanceSignal = ids[DISTANCE] >= 0;
    this.hasTimeSignal = ids[TIME] >= 0;
    if (this.hasDistanceSignal || config.nextServiceOdometerKm === undefined) ids[ODOMETER] = -1;
    this.slots = new SignalSlots(ids);
    this.distanceSet = new ThresholdSet([...config.distanceThresholdsKm].sort((a, b) => b - a), 50);
    this.daySet = new ThresholdSet([...config.dayThresholds].sort((a, b) => b - a), 1);
  }

  protected onSample(slot: number, t: number, v: number): void {
    if (slot === TIME) this.setDays(t, v / 86_400);
    else this.setDistance(t, slot === DISTANCE ? v : this.config.nextServiceOdometerKm! - v);
  }

  override tick(nowUs: number): void {
    if (!this.hasTimeSignal && this.config.nextServiceMs !== undefined) {
      this.setDays(nowUs, (this.config.nextServiceMs * 1000 - nowUs) / DAY_US);
    }
    const known = !Number.isNaN(this.days) || !Number.isNaN(this.distanceKm);
    if (known && nowUs - this.lastReportUs >= this.config.periodS * 1e6) this.report(nowUs, undefined, Priority.low);
  }

  private setDistance(t: number, km: number): void {
    this.distanceKm = km;
    const crossed = this.distanceSet.update(km);
    if (crossed !== undefined) this.report(t, `distance_km<=${crossed}`, crossed <= 0 ? Priority.high : Priority.normal);
  }

  private setDays(t: number, days: number): void {
    this.days = days;
    const crossed = this.daySet.update(days);
    if (crossed !== undefined) this.report(t, `days<=${crossed}`, crossed <= 0 ? Priority.high : Priority.normal);
  }

  private report(t: number, threshold: string | undefined, priority: (typeof Priority)[keyof typeof Priority]): void {
    this.lastReportUs = t;
    this.ctx.emit({
      kind: 'maintenance',
      priority,
      immediate: false,
      timeUs: t,
      maintenance: {
        // Whole days left, rounded up: 0 = due today, negative = overdue.
        daysToService: Number.isNaN(this.days) ? 0 : Math.ceil(this.days) || 0,
        distanceToServiceKm: Number.isNaN(this.distanceKm) ? 0 : this.distanceKm,
        thresholdCrossed: threshold !== undefined,
        threshold: threshold ?? '',
      },
    });
  }
}
