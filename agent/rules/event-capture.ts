/**
 * Event triggers waiting for their post-trigger window: a trigger at time t is sent once the engine
 * clock passes t + post, with the captured samples of [t - pre, t + post] taken from the history.
 * A trigger outlives a rule update that removes its rule (it is already decided).
 */
import type { CapturedWindow, EventTrigger, RuleOutput, TriggerKind } from './rule-output.js';
import type { SignalHistory } from './signal-history.js';
import { type PriorityLevel } from '../../wire/priority.js';

export interface CaptureSpec {
  rule: string;
  kind: TriggerKind;
  priority: PriorityLevel;
  immediate: boolean;
  /** Captured vehicle signal ids. */
  capture: readonly number[];
  preUs: number;
  postUs: number;
}

interface Pending {
  spec: CaptureSpec;
  timeUs: number;
  values: Record<string, number>;
}

export class EventCapture {
  private pending: Pending[] = [];
  /** Time after which the oldest pending trigger is complete (Infinity when none). */
  nextDueUs = Infinity;

  constructor(
    private readonly history: SignalHistory,
    private readonly signalNames: readonly string[],
    private readonly output: RuleOutput,
  ) {}

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Makes sure the history keeps what a trigger of `spec` will need. */
  reserve(spec: CaptureSpec): void {
    if (spec.preUs + spec.postUs === 0) return;
    // One extra second: a window completes at the first sample after t + post, possibly a little later.
    for (const signal of spec.capture) this.history.retain(signal, (spec.preUs + spec.postUs) / 1e6 + 1);
  }

  /** A trigger at `timeUs`; sent now when it has no post window, otherwise when the window is complete. */
  trigger(spec: CaptureSpec, timeUs: number, values: Float64Array): void {
    const snapshot: Record<string, number> = {};
    for (const signal of spec.capture) snapshot[this.signalNames[signal]] = values[signal];
    const pending = { spec, timeUs, values: snapshot };
    if (spec.postUs === 0) {
      this.send(pending);
      return;
    }
    this.pending.push(pending);
    this.nextDueUs = Math.min(this.nextDueUs, timeUs + spec.postUs);
  }

  /** Sends the triggers whose post window ended before `nowUs`. */
  completeDue(nowUs: number): void {
    if (nowUs <= this.nextDueUs) return;
    const waiting: Pending[] = [];
    let next = Infinity;
    for (const p of this.pending) {
      const due = p.timeUs + p.spec.postUs;
      if (nowUs > due) this.send(p);
      else {
        waiting.push(p);
        next = Math.min(next, due);
      }
    }
    this.pending = waiting;
    this.nextDueUs = next;
  }

  /** Sends every pending trigger with what its window holds so far (end of a replay, shutdown). */
  flush(): void {
    const all = this.pending;
    this.pending = [];
    this.nextDueUs = Infinity;
    for (const p of all) this.send(p);
  }

  private send(p: Pending): void {
    const { spec } = p;
    let window: CapturedWindow | null = null;
    if (spec.capture.length > 0 && spec.preUs + spec.postUs > 0) {
      const w = this.history.window(spec.capture, p.timeUs - spec.preUs, p.timeUs + spec.postUs);
      window = { ...w, names: w.signals.map((s) => this.signalNames[s]) };
    }
    const trigger: EventTrigger = {
      rule: spec.rule,
      kind: spec.kind,
      priority: spec.priority,
      immediate: spec.immediate,
      timeUs: p.timeUs,
      values: p.values,
      window,
    };
    this.output.event(trigger);
  }
}
