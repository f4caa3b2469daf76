/**
 * The refresh-rules engine: takes vehicle-signal samples in batches, keeps the current value of every
 * signal, runs regular rules (periodic sampling) and event rules (conditions), and sends what they
 * produce to a RuleOutput. Time is sample time (log time during a replay), never the wall clock,
 * so a replay at any speed gives the same output.
 *
 * Per sample (no allocation): history ring, sliding windows, regular accumulators, and the conditions
 * that read the signal are marked dirty when its value changed (every sample for window inputs).
 * Dirty conditions are evaluated once per sample time, i.e. after all signals of a frame are in,
 * and at the end of each ingest call, so triggers carry the time of the frame that caused them.
 */
import { ConfigError, formatPath } from '../config/config-error.js';
import type { RuleConfig, StatesConfig } from '../config/sections/rules.js';
import { EventCapture, type CaptureSpec } from './event-capture.js';
import type { SlidingWindow } from './expression/sliding-window.js';
import { RegularSampler } from './regular-sampler.js';
import { compileRuleSet, type CompiledRuleSet } from './rule-compiler.js';
import { type RuleOutput } from './rule-output.js';
import { SignalHistory } from './signal-history.js';
import { buildSignalIndex, type SignalIndex } from './signal-index.js';
import { Priority } from '../../wire/priority.js';

export interface RulesEngineOptions {
  /** Vehicle signal names by id (see vehicleSignalNames(config)). */
  signals: readonly string[];
  /** Vehicle fields rules may test (see vehicleProfileFields(config.vehicle)). */
  profile: Readonly<Record<string, number | string>>;
  states?: StatesConfig;
  rules?: readonly RuleConfig[];
  output: RuleOutput;
  /** Shared with the vehicle features (collision pre-crash window); created when absent. */
  history?: SignalHistory;
}

export interface RulesEngineStats {
  /** Samples taken in (after the catalog mapping). */
  samples: number;
  /** Condition evaluations. */
  evaluations: number;
  /** Event triggers (built-in ones included). */
  triggers: number;
  /** Event conditions that held within a rule's min_interval and were not sent. */
  suppressed: number;
}

const CONDITION_REGULAR = 0;
const CONDITION_EVENT = 1;
const CONDITION_IGNITION = 2;

/** Everything that changes when the rules change, swapped in one assignment. */
interface Installed {
  rules: readonly RuleConfig[];
  states: StatesConfig;
  compiled: CompiledRuleSet;
  sampler: RegularSampler;
  eventSpecs: CaptureSpec[];
  minIntervalUs: Float64Array;
  lastTriggerUs: Float64Array;
  ignitionSpecs: [off: CaptureSpec, on: CaptureSpec] | undefined;
  conditionEval: (() => number)[];
  conditionKind: Uint8Array;
  conditionTarget: Uint32Array;
  /** Conditions to evaluate when a signal's value changes / on every sample of a signal. */
  onChange: SignalIndex;
  onSample: SignalIndex;
  windowsBySignal: SlidingWindow[][];
  dirty: Uint8Array;
  dirtyList: Uint32Array;
}

export class RulesEngine {
  readonly signalNames: readonly string[];
  /** Current value of every signal by id; NaN until its first sample. */
  readonly values: Float64Array;
  /** Sample time of each current value. */
  readonly updatedUs: Float64Array;
  readonly history: SignalHistory;
  readonly stats: RulesEngineStats = { samples: 0, evaluations: 0, triggers: 0, suppressed: 0 };

  private readonly ids: Map<string, number>;
  private readonly profile: Readonly<Record<string, number | string>>;
  private readonly output: RuleOutput;
  private readonly capture: EventCapture;
  /** Engine clock: the newest sample time seen (µs). */
  private readonly clock = { nowUs: -Infinity };
  private started = false;
  /** Time of the samples whose conditions are waiting in the dirty list. */
  private pendingTimeUs = NaN;
  private dirtyCount = 0;
  /** Ignition state: -1 unknown, 0 off, 1 on. */
  private ignition = -1;
  private installed!: Installed;

  constructor(options: RulesEngineOptions) {
    this.signalNames = [...options.signals];
    this.ids = new Map(this.signalNames.map((name, id) => [name, id]));
    if (this.ids.size !== this.signalNames.length) throw new Error('signal names must be unique');
    this.profile = options.profile;
    this.output = options.output;
    this.values = new Float64Array(this.signalNames.length).fill(NaN);
    this.updatedUs = new Float64Array(this.signalNames.length).fill(NaN);
    this.history = options.history ?? new SignalHistory(this.signalNames.length);
    this.history.resize(this.signalNames.length);
    this.capture = new EventCapture(this.history, this.signalNames, this.output);
    this.replaceRules(options.rules ?? [], options.states ?? {});
  }

  /** Vehicle signal id of a catalog name. */
  signalId(name: string): number | undefined {
    return this.ids.get(name);
  }

  /** The installed rules (config form), for a RulesUpdate patch or a status report. */
  get rules(): readonly RuleConfig[] {
    return this.installed.rules;
  }

  get states(): StatesConfig {
    return this.installed.states;
  }

  /** Rules not installed because their `profile` condition is false for this vehicle. */
  get skippedRules(): readonly string[] {
    return this.installed.compiled.skipped;
  }

  /** Newest sample time seen (µs), -Infinity before the first sample. */
  get nowUs(): number {
    return this.clock.nowUs;
  }

  /** Event triggers waiting for their post-trigger window. */
  get pendingEvents(): number {
    return this.capture.pendingCount;
  }

  /**
   * Samples in vehicle signal ids: decoded CAN samples mapped by the catalog (rules/signal-map.ts
   * mapSamples) and GNSS fixes, both fed by the agent's one ingest path. Hot path.
   */
  ingestSamples(signal: ArrayLike<number>, timeUs: ArrayLike<number>, value: ArrayLike<number>, count = signal.length): void {
    for (let k = 0; k < count; k++) this.accept(signal[k], timeUs[k], value[k]);
    this.settle();
  }

  /** One sample in vehicle signal ids. */
  push(signal: number, timeUs: number, value: number): void {
    this.accept(signal, timeUs, value);
    this.settle();
  }

  /**
   * Moves the clock without a sample (live mode with a quiet bus: call with the wall clock so that
   * periods close and post-trigger windows complete). Never moves it backwards.
   */
  advanceTo(timeUs: number): void {
    this.settle();
    if (timeUs > this.clock.nowUs) this.moveClock(timeUs);
  }

  /** End of input (end of a replay, shutdown): evaluates what is pending and sends waiting triggers. */
  finish(): void {
    this.settle();
    this.capture.flush();
  }

  /**
   * Installs a new rule set atomically: everything is compiled and checked first; on any problem
   * a ConfigError lists them (paths like rules[2].when) and the running rules stay as they were.
   * Current values, history, shared windows and per-rule min_interval timers are kept.
   */
  replaceRules(rules: readonly RuleConfig[], states: StatesConfig = this.installed?.states ?? {}): void {
    const { ruleSet, issues } = compileRuleSet({
      signalNames: this.signalNames,
      profile: this.profile,
      states,
      rules,
      values: this.values,
      clock: this.clock,
      previousWindows: this.installed?.compiled.windows,
    });
    if (issues.length > 0) throw new ConfigError(issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })));
    this.settle();
    this.install(rules, states, ruleSet);
  }

  /**
   * Upserts rules by name (replacing in place, appending new ones), removes names (names that are
   * not rules, such as monitors, are ignored here) and upserts states; atomic like replaceRules.
   */
  patchRules(upsert: readonly RuleConfig[], remove: readonly string[] = [], states: StatesConfig = {}): void {
    const byName = new Map(upsert.map((rule) => [rule.name, rule]));
    const next = this.installed.rules.filter((rule) => !remove.includes(rule.name)).map((rule) => byName.get(rule.name) ?? rule);
    for (const rule of upsert) if (!next.includes(rule)) next.push(rule);
    this.replaceRules(next, { ...this.installed.states, ...states });
  }

  private accept(signal: number, timeUs: number, value: number): void {
    if (timeUs !== this.pendingTimeUs) {
      if (this.dirtyCount > 0) this.evaluateDirty();
      if (timeUs > this.clock.nowUs) this.moveClock(timeUs);
      this.pendingTimeUs = timeUs;
    }
    const set = this.installed;
    this.stats.samples++;
    this.history.record(signal, timeUs, value);
    const windows = set.windowsBySignal[signal];
    for (let i = 0; i < windows.length; i++) windows[i].push(timeUs, value);
    set.sampler.accumulate(signal, value);
    this.updatedUs[signal] = timeUs;
    const old = this.values[signal];
    if (value !== old && (value === value || old === old)) {
      this.values[signal] = value;
      this.markDirty(set.onChange, signal);
    }
    this.markDirty(set.onSample, signal);
  }

  private moveClock(timeUs: number): void {
    if (!this.started) {
      this.started = true;
      this.installed.sampler.start(timeUs);
    }
    this.clock.nowUs = timeUs;
    const { sampler } = this.installed;
    if (timeUs >= sampler.nextDueUs) sampler.closeDue(timeUs, this.values);
    if (timeUs > this.capture.nextDueUs) this.capture.completeDue(timeUs);
  }

  private markDirty(index: SignalIndex, signal: number): void {
    const { dirty, dirtyList } = this.installed;
    for (let i = index.first[signal], end = index.first[signal + 1]; i < end; i++) {
      const c = index.items[i];
      if (dirty[c] === 0) {
        dirty[c] = 1;
        dirtyList[this.dirtyCount++] = c;
      }
    }
  }

  private settle(): void {
    if (this.dirtyCount > 0) this.evaluateDirty();
  }

  private evaluateDirty(): void {
    const set = this.installed;
    const timeUs = this.pendingTimeUs;
    const count = this.dirtyCount;
    this.dirtyCount = 0;
    this.stats.evaluations += count;
    for (let i = 0; i < count; i++) {
      const c = set.dirtyList[i];
      set.dirty[c] = 0;
      const result = set.conditionEval[c]();
      const holds = result === result && result !== 0;
      const target = set.conditionTarget[c];
      switch (set.conditionKind[c]) {
        case CONDITION_REGULAR:
          set.sampler.setActive(target, holds);
          break;
        case CONDITION_EVENT:
          if (holds) this.fire(set, target, timeUs);
          break;
        case CONDITION_IGNITION:
          this.ignitionChanged(set, holds ? 1 : 0, timeUs);
          break;
      }
    }
  }

  private fire(set: Installed, e: number, timeUs: number): void {
    if (timeUs - set.lastTriggerUs[e] < set.minIntervalUs[e]) {
      this.stats.suppressed++;
      return;
    }
    set.lastTriggerUs[e] = timeUs;
    this.stats.triggers++;
    this.capture.trigger(set.eventSpecs[e], timeUs, this.values);
  }

  /** Sends ignition_on / ignition_off on each change; a first known state sends ignition_on only when on. */
  private ignitionChanged(set: Installed, state: number, timeUs: number): void {
    if (state === this.ignition) return;
    const first = this.ignition === -1;
    this.ignition = state;
    if (first && state === 0) return;
    this.stats.triggers++;
    this.capture.trigger((set.ignitionSpecs as [CaptureSpec, CaptureSpec])[state], timeUs, this.values);
  }

  private install(rules: readonly RuleConfig[], states: StatesConfig, compiled: CompiledRuleSet): void {
    const signalCount = this.signalNames.length;
    const sampler = new RegularSampler(compiled.regular, signalCount, this.output);
    const eventSpecs: CaptureSpec[] = compiled.events.map((e) => ({
      rule: e.config.name,
      kind: 'rule',
      priority: e.config.priority,
      immediate: e.config.immediate,
      capture: e.capture,
      preUs: e.preUs,
      postUs: e.postUs,
    }));
    const previous = this.installed;
    const lastTriggerUs = Float64Array.from(compiled.events, (e) => {
      const before = previous?.eventSpecs.findIndex((spec) => spec.rule === e.config.name) ?? -1;
      return before >= 0 ? previous.lastTriggerUs[before] : -Infinity;
    });

    const conditionEval: (() => number)[] = [];
    const kinds: number[] = [];
    const targets: number[] = [];
    const changeLinks: [number, number][] = [];
    const sampleLinks: [number, number][] = [];
    const addCondition = (expr: { evaluate: () => number; signals: number[]; windowSignals: number[] }, kind: number, target: number) => {
      const c = conditionEval.length;
      conditionEval.push(expr.evaluate);
      kinds.push(kind);
      targets.push(target);
      for (const s of expr.signals) changeLinks.push([s, c]);
      for (const s of expr.windowSignals) sampleLinks.push([s, c]);
    };
    compiled.regular.forEach((rule, r) => rule.when && addCondition(rule.when, CONDITION_REGULAR, r));
    compiled.events.forEach((rule, e) => addCondition(rule.when, CONDITION_EVENT, e));
    let ignitionSpecs: Installed['ignitionSpecs'];
    if (compiled.ignition) {
      addCondition(compiled.ignition, CONDITION_IGNITION, 0);
      const capture = [...new Set([...compiled.ignition.signals, ...compiled.ignition.windowSignals])];
      const spec = (kind: 'ignition_on' | 'ignition_off'): CaptureSpec => ({
        rule: kind,
        kind,
        priority: Priority.high,
        immediate: true,
        capture,
        preUs: 0,
        postUs: 0,
      });
      ignitionSpecs = [spec('ignition_off'), spec('ignition_on')];
    }
    for (const spec of eventSpecs) this.capture.reserve(spec);

    const set: Installed = {
      rules: [...rules],
      states: { ...states },
      compiled,
      sampler,
      eventSpecs,
      minIntervalUs: Float64Array.from(compiled.events, (e) => e.minIntervalUs),
      lastTriggerUs,
      ignitionSpecs,
      conditionEval,
      conditionKind: Uint8Array.from(kinds),
      conditionTarget: Uint32Array.from(targets),
      onChange: buildSignalIndex(signalCount, changeLinks),
      onSample: buildSignalIndex(signalCount, sampleLinks),
      windowsBySignal: compiled.windows.bySignal(signalCount),
      dirty: new Uint8Array(conditionEval.length),
      dirtyList: new Uint32Array(conditionEval.length),
    };
    // Regular rules start with their `when` as it stands now (values may be known already).
    compiled.regular.forEach((rule, r) => {
      if (rule.when) {
        const result = rule.when.evaluate();
        sampler.setActive(r, result === result && result !== 0);
      }
    });
    if (this.started) sampler.start(this.clock.nowUs);
    this.installed = set;
  }
}
