/**
 * The vehicle features, built from the `features:` and `monitors:` config, behind one object the agent
 * feeds: `onSamples` per decoded batch (after recording it into the signal history), `tick` about once
 * a second, `setMonitors` and `setStates` on a backend update, `snapshot` for the status topic / state table.
 */
import type { IStatus } from '../../../proto/gen/roadlink.js';
import type { StatesConfig } from '../../config/sections/rules.js';
import { AlertsFeature } from './alerts.js';
import { CollisionFeature } from './collision.js';
import type { Feature, FeatureContext } from './feature.js';
import type { FeaturesConfig } from '../../config/sections/features.js';
import { MaintenanceFeature } from './maintenance.js';
import { MonitorsFeature, type MonitorDefinitions } from './monitors.js';
import { PositionTracker } from './position-tracker.js';
import { StatusFeature } from './status.js';
import { TripFeature } from './trip.js';

export class FeatureSet {
  readonly position: PositionTracker;
  readonly trip: TripFeature | null;
  readonly collision: CollisionFeature | null;
  readonly alerts: AlertsFeature | null;
  readonly maintenance: MaintenanceFeature | null;
  readonly status: StatusFeature | null;
  readonly monitors: MonitorsFeature;
  private readonly features: Feature[];

  constructor(ctx: FeatureContext, config: FeaturesConfig, monitors: MonitorDefinitions) {
    this.position = new PositionTracker(ctx);
    this.trip = config.trip && new TripFeature(ctx, config.trip, config.ignition, this.position);
    this.collision = config.collision && new CollisionFeature(ctx, config.collision, this.position);
    this.alerts = config.alerts.length > 0 ? new AlertsFeature(ctx, config.alerts) : null;
    this.maintenance = config.maintenance && new MaintenanceFeature(ctx, config.maintenance);
    this.status = config.status && new StatusFeature(ctx, config.status, config.ignition, this.position);
    this.monitors = new MonitorsFeature(ctx, monitors, config.monitors, this.position);
    this.features = [this.collision, this.trip, this.alerts, this.maintenance, this.monitors, this.status].filter((f): f is NonNullable<typeof f> => f !== null);
  }

  /** One decoded batch, in time order. The position is updated first: every feature sees the same fix. */
  onSamples(ids: Uint32Array, timesUs: Float64Array, values: Float64Array, count: number): void {
    this.position.onSamples(ids, timesUs, values, count);
    for (let k = 0; k < this.features.length; k++) this.features[k].onSamples(ids, timesUs, values, count);
  }

  tick(nowUs: number): void {
    for (let k = 0; k < this.features.length; k++) this.features[k].tick(nowUs);
  }

  setMonitors(monitors: MonitorDefinitions): void {
    this.monitors.setMonitors(monitors);
  }

  /**
   * New states from a backend rules update (call after the rules engine accepted them): trips and the
   * status follow the new `states.ignition`. Throws ConfigError and changes nothing when they do not compile.
   */
  setStates(states: StatesConfig): void {
    this.trip?.redefineIgnition(states);
    this.status?.redefineIgnition(states);
  }

  snapshot(): IStatus | null {
    return this.status?.snapshot() ?? null;
  }
}

export function buildFeatures(ctx: FeatureContext, config: FeaturesConfig, monitors: MonitorDefinitions): FeatureSet {
  return new FeatureSet(ctx, config, monitors);
}

export type { CollisionRecord, Feature, FeatureContext, FeatureEvent, StatusChange } from './feature.js';
export type { MonitorDefinitions } from './monitors.js';
export { positionSourceFor } from './position-tracker.js';
