/**
 * Collisions, from an airbag/crash signal or an acceleration magnitude above a threshold (g).
 *
 * Two records per collision, both CRITICAL and immediate, both timed at the trigger:
 *  1. at the trigger itself (nothing waits for the post window): position, impact speed (highest
 *     speed of the last `impactSpeedS`, as the speed signal drops during the impact), trigger,
 *     peak g of the last second, and the pre-crash window (`preWindowS` of `windowSignals`);
 *  2. `postWindowS` later: the same fields with the peak g updated over the post window, and
 *     `postWindow` filled (`preWindow` null). The receiver pairs them by time and trigger.
 * Further triggers within `cooldownS` belong to the same collision (airbag after the g spike).
 */
import type { CapturedWindow } from '../rule-output.js';
import { SlidingWindow } from '../expression/sliding-window.js';
import { type CollisionRecord, type FeatureContext } from './feature.js';
import type { PositionTracker } from './position-tracker.js';
import { RoutedFeature } from './routed-feature.js';
import { SignalSlots } from './signal-slots.js';
import { captureWindow, retainWindowSignals } from './captured-window.js';
import { type CollisionConfig } from '../../config/sections/feature-settings.js';
import { Priority } from '../../../wire/priority.js';

const STANDARD_GRAVITY = 9.80665;



const AIRBAG = 0, SPEED = 1, ACCEL = 2; // accel components use slots ACCEL, ACCEL + 1, ...

interface Open {
  timeUs: number;
  deadlineUs: number;
  record: CollisionRecord;
}

export class CollisionFeature extends RoutedFeature {
  readonly name = 'collision';
  readonly counters = { collisions: 0 };
  private readonly windowIds: number[];
  private readonly accel: Float64Array;
  private readonly accelScale: number;
  private readonly recentG = new SlidingWindow(1e6);
  private readonly recentSpeed: SlidingWindow;
  private airbag = NaN;
  private cooldownUntilUs = -Infinity;
  private open: Open | null = null;

  constructor(
    private readonly ctx: FeatureContext,
    private readonly config: CollisionConfig,
    private readonly position: PositionTracker,
  ) {
    super();
    const accelNames = config.acceleration?.signals ?? [];
    const names = [config.airbag?.signal ?? '', config.speedSignal, ...accelNames];
    this.slots = new SignalSlots(names.map((n) => (n ? ctx.signalId(n) : -1)));
    this.accel = new Float64Array(accelNames.length);
    this.accelScale = config.acceleration?.unit === 'g' ? 1 : 1 / STANDARD_GRAVITY;
    this.recentSpeed = new SlidingWindow(config.impactSpeedS * 1e6);
    this.windowIds = retainWindowSignals(ctx, config.windowSignals, config.preWindowS + config.postWindowS + 1);
  }

  /** The post window closes at the first sample of these signals past its end (or at a tick). */
  protected onSample(slot: number, t: number, v: number): void {
    if (this.open !== null && t >= this.open.deadlineUs) this.finish();
    if (slot === AIRBAG) {
      const rising = !(this.airbag >= this.config.airbag!.atLeast) && v >= this.config.airbag!.atLeast;
      this.airbag = v;
      if (rising) this.trigger('airbag', t);
    } else if (slot === SPEED) {
      this.recentSpeed.push(t, v);
    } else {
      this.accel[slot - ACCEL] = v;
      const g = this.magnitudeG();
      this.recentG.push(t, g);
      if (this.open !== null && g > this.open.record.peakAccelG) this.open.record.peakAccelG = g;
      if (g >= this.config.acceleration!.thresholdG) this.trigger('acceleration', t);
    }
  }

  override tick(nowUs: number): void {
    if (this.open !== null && nowUs >= this.open.deadlineUs) this.finish();
  }

  private magnitudeG(): number {
    let sum = 0;
    for (let k = 0; k < this.accel.length; k++) sum += this.accel[k] * this.accel[k];
    return Math.sqrt(sum) * this.accelScale;
  }

  private trigger(trigger: CollisionRecord['trigger'], t: number): void {
    if (t < this.cooldownUntilUs) return;
    this.cooldownUntilUs = t + this.config.cooldownS * 1e6;
    if (this.open !== null) this.finish();
    const peak = this.recentG.max(t);
    const impact = this.recentSpeed.max(t);
    const record: CollisionRecord = {
      position: this.position.record(),
      speedKmh: Number.isFinite(impact) ? impact : 0,
      trigger,
      peakAccelG: Number.isFinite(peak) ? peak : 0,
      preWindow: this.window(t - this.config.preWindowS * 1e6, t),
      postWindow: null,
    };
    this.counters.collisions++;
    this.ctx.emit({ kind: 'collision', priority: Priority.critical, immediate: true, timeUs: t, collision: record });
    this.open = { timeUs: t, deadlineUs: t + this.config.postWindowS * 1e6, record: { ...record, preWindow: null } };
  }

  private finish(): void {
    const open = this.open!;
    this.open = null;
    open.record.postWindow = this.window(open.timeUs, open.deadlineUs);
    this.ctx.emit({ kind: 'collision', priority: Priority.critical, immediate: true, timeUs: open.timeUs, collision: open.record });
  }

  private window(fromUs: number, toUs: number): CapturedWindow | null {
    return this.windowIds.length > 0 ? captureWindow(this.ctx, this.windowIds, fromUs, toUs) : null;
  }
}
