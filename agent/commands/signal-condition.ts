/**
 * Command preconditions and confirmations: conditions on live signals, written in the rules'
 * expression language (agent/rules/expression/) and compiled by its compiler. Two additions for
 * commands, both resolved before compiling:
 * - a signal compared with text reads the text as a VAL_ label of that signal's DBC signal,
 *   `Vehicle.Body.LockState == "LOCKED"` (through the catalog's map/scale, as live values are);
 * - functions that need a sample history (avg/min/max over a window, changed, rising, falling) are
 *   refused: a condition is checked on the current values at one moment.
 * States (`parked`) and vehicle fields (`model_year`) work as in rules.
 */
import type { StatesConfig } from '../config/sections/rules.js';
import { compileExpression, type ExpressionEnv } from '../rules/expression/expression-compiler.js';
import { ExpressionError, parseExpression, type Expr } from '../rules/expression/expression-parser.js';
import type { LiveSignals } from './live-signals.js';

export interface ConditionEnv {
  /** Vehicle signal names (the catalog, see vehicleSignalNames(config)). */
  signalNames: readonly string[];
  states?: StatesConfig;
  profile?: Readonly<Record<string, number | string>>;
  /**
   * VAL_ labels of a vehicle signal → its vehicle value. Absent: any label is accepted unchecked
   * (the config check, which has no DBC loaded).
   */
  labels?: (signal: string) => ReadonlyMap<string, number> | undefined;
}

export interface SignalCondition {
  readonly text: string;
  /** Vehicle signals the condition reads. */
  readonly signals: readonly string[];
  /** Whether it holds on the current values (an unknown value makes a comparison false). */
  holds(live: LiveSignals): boolean;
  /** `Vehicle.Speed=12.5, Vehicle.Body.LockState=unknown`: the values it read, for rejection details. */
  describe(live: LiveSignals): string;
}

const HISTORY_FUNCTIONS = new Set(['avg', 'min', 'max', 'changed', 'rising', 'falling']);

/** Compiles a condition; throws ExpressionError (with a column) when it is not usable. */
export function compileCondition(text: string, env: ConditionEnv): SignalCondition {
  const names = env.signalNames;
  const ids = new Map(names.map((name, id) => [name, id]));
  const states = new Map<string, Expr>();
  for (const [name, stateText] of Object.entries(env.states ?? {})) {
    try {
      states.set(name, parseExpression(stateText));
    } catch {
      // The rules section reports a broken state; here it is simply not a name.
    }
  }
  const values = new Float64Array(names.length).fill(NaN);
  const expressionEnv: ExpressionEnv = {
    signalId: (name) => ids.get(name),
    signalNames: () => ids.keys(),
    values,
    clock: { nowUs: 0 },
    profile: env.profile ?? {},
    states,
    window: () => {
      throw new ExpressionError('a state using avg/min/max over a window cannot be used in a command condition', 1);
    },
  };
  const expr = resolveLabels(parseExpression(text), ids, env);
  const compiled = compileExpression(expr, expressionEnv);
  const used = compiled.signals;
  const load = (live: LiveSignals): void => {
    for (const id of used) values[id] = live.value(names[id]) ?? NaN;
  };
  return {
    text,
    signals: used.map((id) => names[id]),
    holds(live) {
      load(live);
      const result = compiled.evaluate();
      return result === result && result !== 0;
    },
    describe(live) {
      return used.map((id) => `${names[id]}=${live.value(names[id]) ?? 'unknown'}`).join(', ');
    },
  };
}

/** Replaces `signal == "LABEL"` texts by the label's value; refuses history functions. */
function resolveLabels(expr: Expr, ids: ReadonlyMap<string, number>, env: ConditionEnv): Expr {
  const walk = (e: Expr): Expr => {
    switch (e.kind) {
      case 'call':
        if (HISTORY_FUNCTIONS.has(e.name)) {
          throw new ExpressionError(`${e.name}() needs a sample history and is not available in command conditions`, e.column);
        }
        return { ...e, args: e.args.map(walk) };
      case 'not':
      case 'negate':
        return { ...e, arg: walk(e.arg) };
      case 'logic':
      case 'arithmetic':
        return { ...e, left: walk(e.left), right: walk(e.right) };
      case 'compare': {
        const left = walk(e.left);
        const right = walk(e.right);
        return { ...e, left: labelValue(right, left) ?? left, right: labelValue(left, right) ?? right };
      }
      default:
        return e;
    }
  };
  /** `text` as the value of a label of `other`, when `other` is a signal and `text` a string literal. */
  const labelValue = (other: Expr, text: Expr): Expr | undefined => {
    if (other.kind !== 'name' || text.kind !== 'string' || !ids.has(other.name)) return undefined;
    if (!env.labels) return { kind: 'number', value: 0, column: text.column };
    const labels = env.labels(other.name);
    const value = labels?.get(text.value);
    if (value === undefined) {
      const known = labels && labels.size > 0 ? ` (labels: ${[...labels.keys()].join(', ')})` : ' (its DBC signal has no VAL_ labels)';
      throw new ExpressionError(`'${text.value}' is not a value label of ${other.name}${known}`, text.column);
    }
    return { kind: 'number', value, column: text.column };
  };
  return walk(expr);
}
