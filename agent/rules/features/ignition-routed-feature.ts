/**
 * A feature that follows the ignition (trip, status): its own signals and the inputs of the ignition
 * condition share one slot table, so that an ignition change is seen in the order of the feature's
 * own samples (a trip starts and ends between the right speed samples).
 * Slots: the feature's own signals first (0 .. own.length-1), then the ignition inputs.
 */
import type { StatesConfig } from '../../config/sections/rules.js';
import type { FeatureContext } from './feature.js';
import { IgnitionTracker } from './ignition.js';
import { RoutedFeature } from './routed-feature.js';
import { SignalSlots } from './signal-slots.js';
import { type IgnitionSpec } from '../../config/sections/feature-settings.js';

export abstract class IgnitionRoutedFeature extends RoutedFeature {
  protected readonly ignition: IgnitionTracker;
  private ignitionBase = 0;

  /** `own`: the feature's signal names by slot ('' or a name the vehicle lacks: never routed). */
  constructor(
    private readonly context: FeatureContext,
    ignition: IgnitionSpec,
    private readonly own: readonly string[],
  ) {
    super();
    this.ignition = new IgnitionTracker(ignition);
    this.route();
  }

  /** Follows new states (rules update); throws ConfigError and keeps the old ones when they do not compile. */
  redefineIgnition(states: StatesConfig): void {
    if (this.ignition.redefine(states)) this.route();
  }

  protected onSample(slot: number, t: number, v: number): void {
    if (slot < this.ignitionBase) this.onSignal(slot, t, v);
    else if (this.ignition.update(slot - this.ignitionBase, t, v)) this.ignitionChanged(t, t);
  }

  override tick(nowUs: number): void {
    if (this.ignition.checkTimeout(nowUs)) this.ignitionChanged(this.ignition.changedUs, nowUs);
  }

  /** A sample of one of the feature's own signals (slot in `own`). */
  protected abstract onSignal(slot: number, timeUs: number, value: number): void;

  /**
   * The ignition state changed at `atUs` (a sample time, or the last input sample before a silence
   * timeout), known at `nowUs` (the same time, or the tick that noticed the silence).
   */
  protected abstract ignitionChanged(atUs: number, nowUs: number): void;

  private route(): void {
    const names = [...this.own, ...this.ignition.inputs];
    this.ignitionBase = this.own.length;
    this.slots = new SignalSlots(names.map((n) => (n ? this.context.signalId(n) : -1)));
  }
}
