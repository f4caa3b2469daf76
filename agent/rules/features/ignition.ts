/**
 * Ignition state from the vehicle's ignition signal. Vehicles encode it differently (a 0/1 flag, or a
 * key position 0 off / 1 acc / 2 on / 3 start), so the mapping is configured. When the signal falls
 * silent for `timeoutS` (the bus went to sleep without an explicit "off"), the state becomes OFF.
 */
import { Ignition, type IgnitionState } from './feature.js';

export interface IgnitionSpec {
  /** Catalog name of the ignition signal. */
  signal: string;
  /** Values >= this mean ON (default 1: a 0/1 flag). */
  onAtLeast: number;
  /** Values that mean ACC (accessory), checked before onAtLeast. */
  accValues: number[];
  /** Silence after which the ignition counts as OFF (s; 0 = never). */
  timeoutS: number;
}

export const DEFAULT_IGNITION: IgnitionSpec = { signal: 'Vehicle.LowVoltageSystemState', onAtLeast: 1, accValues: [], timeoutS: 60 };

export function classifyIgnition(spec: IgnitionSpec, value: number): IgnitionState {
  if (spec.accValues.includes(value)) return Ignition.ACC;
  return value >= spec.onAtLeast ? Ignition.ON : Ignition.OFF;
}

/** Follows one ignition signal; `update` and `checkTimeout` report a change by returning true. */
export class IgnitionTracker {
  state: IgnitionState = Ignition.UNSPECIFIED;
  /** Time of the last change (µs). */
  changedUs = NaN;
  private lastSampleUs = NaN;

  constructor(private readonly spec: IgnitionSpec) {}

  update(timeUs: number, value: number): boolean {
    this.lastSampleUs = timeUs;
    return this.set(classifyIgnition(this.spec, value), timeUs);
  }

  /** OFF when the signal has been silent for longer than the timeout. */
  checkTimeout(nowUs: number): boolean {
    if (this.spec.timeoutS <= 0 || this.state === Ignition.OFF || Number.isNaN(this.lastSampleUs)) return false;
    if (nowUs - this.lastSampleUs <= this.spec.timeoutS * 1e6) return false;
    return this.set(Ignition.OFF, this.lastSampleUs);
  }

  private set(state: IgnitionState, timeUs: number): boolean {
    if (state === this.state) return false;
    this.state = state;
    this.changedUs = timeUs;
    return true;
  }
}
