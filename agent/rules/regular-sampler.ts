/**
 * Regular rules: each rule reports its signals once per period, at sample-time boundaries that are
 * multiples of the period (so a replay at any speed, or a restart, gives the same timestamps).
 * Between boundaries it accumulates min / max / sum / count per (rule, signal) in flat arrays.
 * A rule accumulates only while active (its `when` holds) and reports at a boundary only when it is
 * active there. After a gap without samples it reports the period that closed and resumes at the next
 * boundary after the gap (no burst of empty periods).
 */
import type { CompiledRegularRule } from './rule-compiler.js';
import type { RuleOutput } from './rule-output.js';
import { buildSignalIndex, type SignalIndex } from './signal-index.js';

const MODE_LAST = 0;
const MODE_MIN = 1;
const MODE_MAX = 2;
const MODE_AVG = 3;
const MODE_CODES = { last: MODE_LAST, min: MODE_MIN, max: MODE_MAX, avg: MODE_AVG } as const;

export class RegularSampler {
  /** Per rule: 1 while its `when` holds. */
  readonly active: Uint8Array;
  private readonly nextBoundaryUs: Float64Array;
  /** Per entry (rule, signal, mode). */
  private readonly entryRule: Uint32Array;
  private readonly entrySignal: Uint32Array;
  private readonly entryMode: Uint8Array;
  private readonly count: Float64Array;
  private readonly min: Float64Array;
  private readonly max: Float64Array;
  private readonly sum: Float64Array;
  /** Per rule: its entries are [ruleFirst[r], ruleFirst[r + 1]). */
  private readonly ruleFirst: Uint32Array;
  /** Per signal: its accumulating entries (min/max/avg). */
  private readonly accumulating: SignalIndex;
  /** Earliest boundary of any rule (Infinity before the first sample). */
  nextDueUs = Infinity;

  constructor(
    private readonly rules: readonly CompiledRegularRule[],
    signalCount: number,
    private readonly output: RuleOutput,
  ) {
    const entries = rules.flatMap((rule, r) => rule.entries.map((e) => ({ rule: r, signal: e.signal, mode: MODE_CODES[e.mode] })));
    const n = entries.length;
    this.active = new Uint8Array(rules.length);
    this.nextBoundaryUs = new Float64Array(rules.length).fill(Infinity);
    this.entryRule = Uint32Array.from(entries, (e) => e.rule);
    this.entrySignal = Uint32Array.from(entries, (e) => e.signal);
    this.entryMode = Uint8Array.from(entries, (e) => e.mode);
    this.count = new Float64Array(n);
    this.min = new Float64Array(n).fill(Infinity);
    this.max = new Float64Array(n).fill(-Infinity);
    this.sum = new Float64Array(n);
    this.ruleFirst = new Uint32Array(rules.length + 1);
    for (let r = 0, k = 0; r <= rules.length; r++) {
      while (k < n && this.entryRule[k] < r) k++;
      this.ruleFirst[r] = k;
    }
    this.accumulating = buildSignalIndex(
      signalCount,
      entries.flatMap((e, k) => (e.mode === MODE_LAST ? [] : [[e.signal, k] as const])),
    );
    rules.forEach((rule, r) => (this.active[r] = rule.when === undefined ? 1 : 0));
  }

  /** Sets every rule's first boundary after `nowUs` (the first sample, or a rule update). */
  start(nowUs: number): void {
    for (let r = 0; r < this.rules.length; r++) this.nextBoundaryUs[r] = boundaryAfter(nowUs, this.rules[r].periodUs);
    this.updateNextDue();
  }

  /** One sample of `signal`; hot path. */
  accumulate(signal: number, value: number): void {
    if (value !== value) return;
    const { first, items } = this.accumulating;
    for (let i = first[signal], end = first[signal + 1]; i < end; i++) {
      const k = items[i];
      if (this.active[this.entryRule[k]] === 0) continue;
      this.count[k]++;
      this.sum[k] += value;
      if (value < this.min[k]) this.min[k] = value;
      if (value > this.max[k]) this.max[k] = value;
    }
  }

  /** Reports every period that ended at or before `nowUs`; `values` are the current signal values. */
  closeDue(nowUs: number, values: Float64Array): void {
    for (let r = 0; r < this.rules.length; r++) {
      const boundary = this.nextBoundaryUs[r];
      if (boundary > nowUs) continue;
      if (this.active[r] === 1) this.report(r, boundary, values);
      this.reset(r);
      this.nextBoundaryUs[r] = boundaryAfter(nowUs, this.rules[r].periodUs);
    }
    this.updateNextDue();
  }

  /** A rule's `when` changed: a rule that stops drops what it accumulated in the current period. */
  setActive(r: number, active: boolean): void {
    const flag = active ? 1 : 0;
    if (this.active[r] === flag) return;
    this.active[r] = flag;
    if (!active) this.reset(r);
  }

  private report(r: number, boundaryUs: number, values: Float64Array): void {
    const { config } = this.rules[r];
    for (let k = this.ruleFirst[r], end = this.ruleFirst[r + 1]; k < end; k++) {
      let value: number;
      switch (this.entryMode[k]) {
        case MODE_LAST:
          value = values[this.entrySignal[k]];
          break;
        case MODE_MIN:
          value = this.count[k] > 0 ? this.min[k] : NaN;
          break;
        case MODE_MAX:
          value = this.count[k] > 0 ? this.max[k] : NaN;
          break;
        default:
          value = this.count[k] > 0 ? this.sum[k] / this.count[k] : NaN;
      }
      if (value === value) this.output.sample(config.name, config.stream, config.priority, this.entrySignal[k], boundaryUs, value);
    }
  }

  private reset(r: number): void {
    for (let k = this.ruleFirst[r], end = this.ruleFirst[r + 1]; k < end; k++) {
      this.count[k] = 0;
      this.sum[k] = 0;
      this.min[k] = Infinity;
      this.max[k] = -Infinity;
    }
  }

  private updateNextDue(): void {
    let next = Infinity;
    for (let r = 0; r < this.nextBoundaryUs.length; r++) if (this.nextBoundaryUs[r] < next) next = this.nextBoundaryUs[r];
    this.nextDueUs = next;
  }
}

/** The first multiple of `periodUs` strictly after `timeUs`. */
function boundaryAfter(timeUs: number, periodUs: number): number {
  return (Math.floor(timeUs / periodUs) + 1) * periodUs;
}
