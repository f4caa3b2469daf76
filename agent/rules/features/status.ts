/**
 * Last known state of the vehicle (roadlink.v1.Status): position, speed, fuel/charge, autonomy,
 * odometer, ignition, doors and locks. `snapshot()` returns it at any time; a status record is emitted
 * when something that matters changes — a door opens or closes, the lock state or the ignition changes,
 * the vehicle moved more than `moveM`, fuel or charge changed by `fuelStepPct` — at most once per
 * `minIntervalS` (changes in between are sent together when the interval has passed), and every
 * `heartbeatS` when set. The agent persists the latest one (state table) and can `restore()` it at start.
 */
import type { IDoor, IStatus } from '../../../proto/gen/roadlink.js';
import { toMs, type FeatureContext, type StatusChange } from './feature.js';
import { distanceM } from './geo.js';
import { IgnitionRoutedFeature } from './ignition-routed-feature.js';
import type { PositionTracker } from './position-tracker.js';
import { SlidingWindow } from '../expression/sliding-window.js';
import { type IgnitionSpec, type StatusConfig } from '../../config/sections/feature-settings.js';
import { Priority } from '../../../wire/priority.js';





const FUEL = 0, SOC = 1, RANGE = 2, ODO = 3, LOCK = 4, DOORS = 5; // door d: open at DOORS + 2d, locked at DOORS + 2d + 1
const CHANGE_BITS: Record<StatusChange, number> = { door: 1, lock: 2, ignition: 4, moved: 8, fuel: 16, charge: 32, heartbeat: 64 };
const CHANGES = Object.keys(CHANGE_BITS) as StatusChange[];

/** A level (%) reported as its mean over a window, with the value last sent for step detection. */
class SmoothedLevel {
  value = NaN;
  private lastSent = NaN;
  private readonly mean: SlidingWindow;

  constructor(averageS: number) {
    this.mean = new SlidingWindow(averageS * 1e6);
  }

  /** True when the mean moved `step` or more from the value last sent (or nothing was sent yet). */
  push(t: number, v: number, step: number): boolean {
    this.mean.push(t, v);
    this.value = this.mean.mean(t);
    return !(Math.abs(this.value - this.lastSent) < step);
  }

  sent(): void {
    this.lastSent = this.value;
  }

  restore(value: number): void {
    this.value = this.lastSent = value;
  }
}

export class StatusFeature extends IgnitionRoutedFeature {
  readonly name = 'status';
  private readonly hasLockSignal: boolean;
  private readonly fuel: SmoothedLevel;
  private readonly soc: SmoothedLevel;
  private rangeKm = NaN;
  private odometerKm = NaN;
  private centralLock = NaN;
  /** Per door: 1/0, NaN = unknown. */
  private readonly doorOpen: Float64Array;
  private readonly doorLocked: Float64Array;
  private seq = 0;
  private lastUpdateUs = NaN;
  private pending = 0;
  private lastEmitUs = -Infinity;
  private sentLat = NaN;
  private sentLon = NaN;

  constructor(
    private readonly ctx: FeatureContext,
    private readonly config: StatusConfig,
    ignition: IgnitionSpec,
    private readonly position: PositionTracker,
  ) {
    const s = config.signals;
    super(ctx, ignition, [s.fuelLevel, s.soc, s.range, s.odometer, s.lock, ...config.doors.flatMap((door) => [door.open, door.locked])]);
    this.hasLockSignal = s.lock !== '' && ctx.signalId(s.lock) >= 0;
    this.fuel = new SmoothedLevel(config.levelAverageS);
    this.soc = new SmoothedLevel(config.levelAverageS);
    this.doorOpen = new Float64Array(config.doors.length).fill(NaN);
    this.doorLocked = new Float64Array(config.doors.length).fill(NaN);
    position.onFix((t, lat, lon) => {
      this.lastUpdateUs = t;
      if (Number.isNaN(this.sentLat) || distanceM(this.sentLat, this.sentLon, lat, lon) > this.config.moveM) this.change(CHANGE_BITS.moved, t);
    });
  }

  protected override onSample(slot: number, t: number, v: number): void {
    this.lastUpdateUs = t;
    super.onSample(slot, t, v);
  }

  protected onSignal(slot: number, t: number, v: number): void {
    switch (slot) {
      case FUEL:
        if (this.fuel.push(t, v, this.config.fuelStepPct)) this.change(CHANGE_BITS.fuel, t);
        break;
      case SOC:
        if (this.soc.push(t, v, this.config.fuelStepPct)) this.change(CHANGE_BITS.charge, t);
        break;
      case RANGE:
        this.rangeKm = v;
        break;
      case ODO:
        this.odometerKm = v;
        break;
      // The new value is stored before change(): the status it may emit carries it.
      case LOCK: {
        const changed = v !== this.centralLock;
        this.centralLock = v;
        if (changed) this.change(CHANGE_BITS.lock, t);
        break;
      }
      default: {
        const door = (slot - DOORS) >> 1;
        const flag = v !== 0 ? 1 : 0;
        const states = (slot - DOORS) & 1 ? this.doorLocked : this.doorOpen;
        if (flag === states[door]) break;
        states[door] = flag;
        this.change(states === this.doorLocked ? CHANGE_BITS.lock : CHANGE_BITS.door, t);
      }
    }
  }

  protected ignitionChanged(_atUs: number, nowUs: number): void {
    this.change(CHANGE_BITS.ignition, nowUs);
  }

  override tick(nowUs: number): void {
    super.tick(nowUs);
    const hb = this.config.heartbeatS;
    if (hb > 0 && nowUs - this.lastEmitUs >= hb * 1e6) this.pending |= CHANGE_BITS.heartbeat;
    this.flush(nowUs);
  }

  /** The current state (allocates: for the status topic and the state table, not per sample). */
  snapshot(): IStatus {
    const doors: IDoor[] = [];
    this.config.doors.forEach((d, k) => {
      if (Number.isNaN(this.doorOpen[k]) && Number.isNaN(this.doorLocked[k])) return;
      doors.push({ name: d.name, open: this.doorOpen[k] === 1, locked: this.doorLocked[k] === 1 });
    });
    const p = this.position;
    return {
      timeMs: Number.isNaN(this.lastUpdateUs) ? 0 : toMs(this.lastUpdateUs),
      position: p.record(),
      speedKmh: nan0(p.speedKmh),
      fuelLevelPct: nan0(this.fuel.value),
      batterySocPct: nan0(this.soc.value),
      rangeKm: nan0(this.rangeKm),
      odometerKm: nan0(this.odometerKm),
      ignition: this.ignition.state,
      doors,
      locked: this.locked(),
      seq: this.seq,
    };
  }

  /** Starts from a persisted status (after a restart): the sequence continues, the last values stay known. */
  restore(saved: IStatus): void {
    this.seq = Number(saved.seq ?? 0);
    const known = (x: number | null | undefined): number => (x === null || x === undefined ? NaN : x);
    this.fuel.restore(known(saved.fuelLevelPct));
    this.soc.restore(known(saved.batterySocPct));
    this.rangeKm = known(saved.rangeKm);
    this.odometerKm = known(saved.odometerKm);
    if (saved.position) {
      this.sentLat = saved.position.lat ?? NaN;
      this.sentLon = saved.position.lon ?? NaN;
    }
  }

  private locked(): boolean {
    if (this.hasLockSignal) return this.centralLock !== 0 && !Number.isNaN(this.centralLock);
    let any = false;
    for (let k = 0; k < this.doorLocked.length; k++) {
      if (this.doorLocked[k] === 0) return false;
      if (this.doorLocked[k] === 1) any = true;
    }
    return any;
  }

  private change(bit: number, t: number): void {
    this.pending |= bit;
    this.flush(t);
  }

  private flush(t: number): void {
    if (this.pending === 0 || t - this.lastEmitUs < this.config.minIntervalS * 1e6) return;
    const reasons = CHANGES.filter((c) => (this.pending & CHANGE_BITS[c]) !== 0);
    const urgent = (this.pending & (CHANGE_BITS.door | CHANGE_BITS.lock | CHANGE_BITS.ignition)) !== 0;
    this.pending = 0;
    this.lastEmitUs = t;
    this.seq++;
    const status = this.snapshot();
    this.sentLat = this.position.lat;
    this.sentLon = this.position.lon;
    this.fuel.sent();
    this.soc.sent();
    this.ctx.emit({ kind: 'status', priority: urgent ? Priority.normal : Priority.low, immediate: false, timeUs: t, status, reasons });
  }
}

function nan0(x: number): number {
  return Number.isNaN(x) ? 0 : x;
}
