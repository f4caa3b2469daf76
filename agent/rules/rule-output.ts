import { type PriorityLevel } from '../../wire/priority.js';
/**
 * Where the rules engine sends what it produces. The agent wires this to the SQLite store (and the
 * protobuf encoders); tests collect into arrays. The engine knows nothing of storage or transport.
 */


/** Samples of some signals between two times, one pair of arrays per signal (oldest first). */
export interface CapturedWindow {
  fromUs: number;
  toUs: number;
  /** Vehicle signal ids and names, in the same order as `timeUs` / `value`. */
  signals: number[];
  names: string[];
  timeUs: Float64Array[];
  value: Float64Array[];
}

export type TriggerKind = 'rule' | 'ignition_on' | 'ignition_off';

export interface EventTrigger {
  /** The event rule's name, or `ignition_on` / `ignition_off` for the built-in events. */
  rule: string;
  kind: TriggerKind;
  priority: PriorityLevel;
  /** The rule asks for upload right away (the store should wake the uplink). */
  immediate: boolean;
  /** Sample time at which the condition became true, µs since the epoch. */
  timeUs: number;
  /** Value of each captured signal at the trigger (NaN when not known yet), by signal name. */
  values: Record<string, number>;
  /** Captured samples from timeUs - pre to timeUs + post (null when the rule captures no window). */
  window: CapturedWindow | null;
}

export interface RuleOutput {
  /**
   * One periodic sample of a regular rule: `signalId` (vehicle signal id) had `value` (the rule's
   * last/min/max/avg over the period that ends at `timeUs`, a multiple of the rule's period).
   * Called once per signal per period: the hot path of the output side, so no object is passed.
   */
  sample(rule: string, stream: string, priority: PriorityLevel, signalId: number, timeUs: number, value: number): void;
  /** An event trigger, once its post-trigger window is complete. */
  event(trigger: EventTrigger): void;
}
