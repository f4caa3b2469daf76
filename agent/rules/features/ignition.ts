/**
 * Ignition state for the features (trip boundaries, status), from the configuration's one ignition
 * definition: the `states.ignition` expression, which the rules engine also evaluates for its
 * ignition_on / ignition_off events. The engine's own rule compiler compiles it here, against a private
 * copy of the values it reads, so that a feature follows it in the order of its own samples: ON while
 * the expression holds, OFF when it does not (an unknown value is OFF, as in the engine).
 *
 * Differences from the engine, both deliberate: the condition is evaluated at every sample of its
 * inputs (the engine: once per sample time, when a value changed), and when every input has been
 * silent for `timeoutS` (the bus went to sleep without an explicit "off") the state becomes OFF, dated
 * at the last input sample. The engine has no timeout: its ignition_off needs a value.
 */
import { ConfigError, formatPath } from '../../config/config-error.js';
import type { StatesConfig } from '../../config/sections/rules.js';
import type { CompiledExpression } from '../expression/expression-compiler.js';
import type { SlidingWindow } from '../expression/sliding-window.js';
import { compileRuleSet, type WindowRegistry } from '../rule-compiler.js';
import { Ignition, type IgnitionState } from './feature.js';
import { type IgnitionSpec } from '../../config/sections/feature-settings.js';



/** `states.ignition` compiled on its own values; inputs are the signals it reads, by input index. */
class IgnitionCondition {
  /** Vehicle signal names of the inputs. */
  readonly inputs: string[];
  /** The condition's sliding windows (reused by a redefinition). */
  readonly windows: WindowRegistry;
  private readonly inputIds: number[];
  private readonly inputWindows: SlidingWindow[][];
  private readonly evaluate: () => number;

  constructor(
    spec: IgnitionSpec,
    states: StatesConfig,
    readonly values: Float64Array,
    readonly clock: { nowUs: number },
    previousWindows?: WindowRegistry,
  ) {
    const { ruleSet, issues } = compileRuleSet({ signalNames: spec.signalNames, profile: spec.profile, states, rules: [], values, clock, previousWindows });
    if (issues.length > 0) throw new ConfigError(issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })));
    this.windows = ruleSet.windows;
    const compiled: CompiledExpression | undefined = ruleSet.ignition;
    this.inputIds = compiled ? [...new Set([...compiled.signals, ...compiled.windowSignals])] : [];
    this.inputs = this.inputIds.map((id) => spec.signalNames[id]);
    const bySignal = ruleSet.windows.bySignal(spec.signalNames.length);
    this.inputWindows = this.inputIds.map((id) => bySignal[id]);
    this.evaluate = compiled?.evaluate ?? (() => NaN);
  }

  /** One sample of input `k`, then the condition: ON or OFF. */
  update(k: number, timeUs: number, value: number): IgnitionState {
    this.values[this.inputIds[k]] = value;
    const windows = this.inputWindows[k];
    for (let i = 0; i < windows.length; i++) windows[i].push(timeUs, value);
    if (timeUs > this.clock.nowUs) this.clock.nowUs = timeUs;
    const result = this.evaluate();
    return result === result && result !== 0 ? Ignition.ON : Ignition.OFF;
  }
}

/** Follows the ignition condition; `update` and `checkTimeout` report a change by returning true. */
export class IgnitionTracker {
  state: IgnitionState = Ignition.UNSPECIFIED;
  /** Time of the last change (µs). */
  changedUs = NaN;
  private condition: IgnitionCondition;
  private lastSampleUs = NaN;

  /** Throws ConfigError when the states do not compile (the config loader has checked them already). */
  constructor(private readonly spec: IgnitionSpec) {
    this.condition = new IgnitionCondition(spec, spec.states, new Float64Array(spec.signalNames.length).fill(NaN), { nowUs: -Infinity });
  }

  /** Vehicle signal names whose samples go to `update(input, ...)`, by input index (none without states.ignition). */
  get inputs(): readonly string[] {
    return this.condition.inputs;
  }

  update(input: number, timeUs: number, value: number): boolean {
    this.lastSampleUs = timeUs;
    return this.set(this.condition.update(input, timeUs, value), timeUs);
  }

  /** OFF when every input has been silent for longer than the timeout. */
  checkTimeout(nowUs: number): boolean {
    if (this.spec.timeoutS <= 0 || this.state === Ignition.OFF || Number.isNaN(this.lastSampleUs)) return false;
    if (nowUs - this.lastSampleUs <= this.spec.timeoutS * 1e6) return false;
    return this.set(Ignition.OFF, this.lastSampleUs);
  }

  /**
   * Follows new states (a backend rules update). The current state, the known values and windows are
   * kept; the new condition decides at the next sample of one of its inputs. Returns true when the
   * inputs changed (the owner routes the new ones). Throws ConfigError and changes nothing when the
   * states do not compile.
   */
  redefine(states: StatesConfig): boolean {
    const old = this.condition;
    this.condition = new IgnitionCondition(this.spec, states, old.values, old.clock, old.windows);
    return this.condition.inputs.join('\n') !== old.inputs.join('\n');
  }

  private set(state: IgnitionState, timeUs: number): boolean {
    if (state === this.state) return false;
    this.state = state;
    this.changedUs = timeUs;
    return true;
  }
}
