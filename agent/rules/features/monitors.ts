/**
 * Monitors: geofences (circle or polygon; enter/exit) and thresholds (a signal above/below a value),
 * from the `monitors:` config section (agent/config/sections/monitors.ts) and replaceable at runtime
 * with `setMonitors()` (backend rule updates); monitors that keep their name and definition keep
 * their state, so an update does not re-announce them.
 *
 * Hysteresis, so that GNSS jitter at a border or a noisy value does not flap:
 * - geofences: the position must be `marginM` beyond the border (outside to leave, inside to enter)
 *   and stay beyond it for `dwellS` before the transition is reported (with the time and position
 *   of the first fix beyond it);
 * - thresholds: the value must come back past the threshold by `hysteresis` to end the crossing,
 *   and both states must hold for `dwellS`.
 * The first position/value only sets the state: no event for where the vehicle already is at start.
 */
import type { IPosition } from '../../../proto/gen/roadlink.js';
import type { GeofenceConfig, MonitorsConfig, ThresholdConfig } from '../../config/sections/monitors.js';
import { ConfirmedState } from './confirmed-state.js';
import type { FeatureContext } from './feature.js';
import { distanceM, polygonSignedDistanceM } from './geo.js';
import type { PositionTracker } from './position-tracker.js';
import { RoutedFeature } from './routed-feature.js';
import { SignalSlots } from './signal-slots.js';
import { type MonitorOptions } from '../../config/sections/feature-settings.js';



/** Monitors as configured (`monitors:` or a rules update); their own margin/dwell override the options. */
export type GeofenceDefinition = GeofenceConfig;
export type ThresholdDefinition = ThresholdConfig;
export type MonitorDefinitions = MonitorsConfig;

class Geofence {
  readonly key: string;
  readonly state: ConfirmedState;
  readonly marginM: number;
  /** Signed distance to the border in metres, positive inside. */
  readonly signedDistance: (lat: number, lon: number) => number;
  candidate: IPosition | null = null;

  constructor(
    readonly config: GeofenceDefinition,
    options: MonitorOptions,
  ) {
    this.key = JSON.stringify(config);
    this.marginM = config.marginM ?? options.geofenceMarginM;
    const dwellUs = (config.dwellS ?? options.geofenceDwellS) * 1e6;
    this.state = new ConfirmedState(dwellUs, dwellUs, -1);
    if (config.shape === 'circle') {
      const { center, radiusM } = config;
      this.signedDistance = (lat, lon) => radiusM - distanceM(center.lat, center.lon, lat, lon);
    } else {
      const ring = new Float64Array(config.points.flatMap((p) => [p.lon, p.lat]));
      this.signedDistance = (lat, lon) => polygonSignedDistanceM(ring, lat, lon);
    }
  }

  /** The instantaneous "inside" condition, with the margin applied against the current state. */
  inside(lat: number, lon: number): boolean {
    const d = this.signedDistance(lat, lon);
    if (this.state.value === 1) return d >= -this.marginM;
    if (this.state.value === 0) return d > this.marginM;
    return d >= 0;
  }
}

class Threshold {
  readonly key: string;
  readonly state: ConfirmedState;
  value = NaN;

  constructor(
    readonly config: ThresholdDefinition,
    options: MonitorOptions,
  ) {
    this.key = JSON.stringify(config);
    const dwellUs = (config.dwellS ?? options.thresholdDwellS) * 1e6;
    this.state = new ConfirmedState(dwellUs, dwellUs, -1);
  }

  /** The instantaneous "beyond the threshold" condition, with hysteresis against the current state. */
  beyond(v: number): boolean {
    const { above, below, hysteresis } = this.config;
    const crossed = this.state.value === 1;
    if (above !== undefined) return crossed ? v >= above - hysteresis : v > above;
    return crossed ? v <= below! + hysteresis : v < below!;
  }
}

export class MonitorsFeature extends RoutedFeature {
  readonly name = 'monitors';
  private geofences: Geofence[] = [];
  private thresholds: Threshold[] = [];

  constructor(
    private readonly ctx: FeatureContext,
    definitions: MonitorDefinitions,
    private readonly options: MonitorOptions,
    private readonly position: PositionTracker,
  ) {
    super();
    this.setMonitors(definitions);
    position.onFix((t, lat, lon) => this.onFix(t, lat, lon));
  }

  /** Replaces every monitor; those with an unchanged name and definition keep their state. */
  setMonitors(definitions: MonitorDefinitions): void {
    const oldFences = new Map(this.geofences.map((g) => [g.key, g]));
    const oldThresholds = new Map(this.thresholds.map((m) => [m.key, m]));
    this.geofences = definitions.geofences.map((g) => oldFences.get(JSON.stringify(g)) ?? new Geofence(g, this.options));
    this.thresholds = definitions.thresholds.map((m) => oldThresholds.get(JSON.stringify(m)) ?? new Threshold(m, this.options));
    this.slots = new SignalSlots(this.thresholds.map((m) => this.ctx.signalId(m.config.signal)));
  }

  /** Names of the geofences the vehicle is in. */
  inside(): string[] {
    return this.geofences.filter((g) => g.state.value === 1).map((g) => g.config.name);
  }

  protected onSample(slot: number, t: number, v: number): void {
    const m = this.thresholds[slot];
    m.value = v;
    if (m.state.observe(m.beyond(v), t)) this.emitThreshold(m);
  }

  override tick(nowUs: number): void {
    for (const g of this.geofences) if (g.state.check(nowUs)) this.emitGeofence(g);
    for (const m of this.thresholds) if (m.state.check(nowUs)) this.emitThreshold(m);
  }

  private onFix(t: number, lat: number, lon: number): void {
    for (const g of this.geofences) {
      const wasPending = g.state.sinceUs === g.state.sinceUs;
      const flipped = g.state.observe(g.inside(lat, lon), t);
      if (!wasPending && (flipped || g.state.sinceUs === g.state.sinceUs)) g.candidate = this.position.record();
      if (flipped) this.emitGeofence(g);
    }
  }

  private emitGeofence(g: Geofence): void {
    this.ctx.emit({
      kind: 'geofence',
      priority: g.config.priority,
      immediate: false,
      timeUs: g.state.changedAtUs,
      geofence: { monitorId: g.config.name, entered: g.state.value === 1, position: g.candidate },
    });
  }

  private emitThreshold(m: Threshold): void {
    const crossedNow = m.state.value === 1;
    this.ctx.emit({
      kind: 'threshold',
      priority: m.config.priority,
      immediate: false,
      timeUs: m.state.changedAtUs,
      // `above`: the value went up past the threshold (entering an `above` monitor, leaving a `below` one).
      threshold: { monitorId: m.config.name, signal: m.config.signal, value: m.value, above: crossedNow === (m.config.above !== undefined) },
    });
  }
}
