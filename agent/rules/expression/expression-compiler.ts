/**
 * Turns a parsed expression into a closure `() => number` that reads the engine's current values.
 *
 * Values are numbers; booleans are 1 and 0; a signal with no value yet is NaN ("unknown").
 * Any comparison with an unknown value is false, and an unknown value is false as a condition.
 * `and` / `or` evaluate both sides (no short circuit) so that edge and change functions inside them
 * see every evaluation. Text appears only as a vehicle-profile field compared with a text literal
 * (`fuel_type == "electric"`, folded at compile time) and as a window duration (`avg(x, "10s")`).
 *
 * Functions:
 *   changed(x [, deadband])   true when x moved by more than deadband (default 0) since it last reported
 *   rising(x), falling(x)     true on the evaluation where x turns true (false); the first evaluation
 *                             only sets the baseline
 *   avg|min|max(signal, "10s") over the samples of the last 10 s (NaN when there are none)
 *   abs(x), known(x)          |x|; 1 when x is not unknown
 */
import { closestName, parseDuration } from '../../config/units.js';
import { ExpressionError, startColumn, type ArithmeticOp, type Expr } from './expression-parser.js';
import type { SlidingWindow } from './sliding-window.js';

/** What an expression may read. */
export interface ExpressionEnv {
  /** Vehicle signal id of a catalog name. */
  signalId(name: string): number | undefined;
  signalNames(): Iterable<string>;
  /** Current value of every signal by id (NaN: unknown). */
  readonly values: Float64Array;
  /** Time of the evaluation, for window functions. */
  readonly clock: { nowUs: number };
  /** Vehicle profile fields (model_year, brand, ...), constants at compile time. */
  readonly profile: Readonly<Record<string, number | string>>;
  /** Named conditions (driving, parked, ignition, ...), compiled inline where used. */
  readonly states: ReadonlyMap<string, Expr>;
  /** The shared sliding window of a signal over a duration. */
  window(signal: number, durationUs: number): SlidingWindow;
}

export interface CompiledExpression {
  evaluate: () => number;
  /** Signals whose value changes can change the result. */
  signals: number[];
  /** Signals whose every sample can change the result (inputs of window functions). */
  windowSignals: number[];
  /** The value when the expression reads no signal (profile conditions). */
  constant?: number;
  /** Uses changed / rising / falling (keeps state between evaluations). */
  stateful: boolean;
}

/** A compiled sub-expression: a constant (number or text) or a closure. */
type Part = { constant: number | string; fn?: undefined } | { constant?: undefined; fn: () => number };

interface Context {
  env: ExpressionEnv;
  signals: Set<number>;
  windowSignals: Set<number>;
  stateful: boolean;
  /** States being expanded (cycle detection). */
  expanding: string[];
  /** Inside a state's expression: edge/change functions are refused there. */
  inState: string | undefined;
}

const truth = (x: number): number => (x === x && x !== 0 ? 1 : 0);

/** Compiles `expr`; `asState` names the state being defined when `expr` is a state's own definition. */
export function compileExpression(expr: Expr, env: ExpressionEnv, asState?: string): CompiledExpression {
  const context: Context = {
    env,
    signals: new Set(),
    windowSignals: new Set(),
    stateful: false,
    expanding: asState === undefined ? [] : [asState],
    inState: asState,
  };
  const part = compile(expr, context);
  if (part.fn === undefined && typeof part.constant === 'string') {
    throw new ExpressionError('a condition must be a number or a comparison, not text', startColumn(expr));
  }
  const constant = part.fn === undefined ? (part.constant as number) : undefined;
  return {
    evaluate: part.fn ?? (() => constant as number),
    signals: [...context.signals],
    windowSignals: [...context.windowSignals],
    constant,
    stateful: context.stateful,
  };
}

function compile(expr: Expr, context: Context): Part {
  switch (expr.kind) {
    case 'number':
      return { constant: expr.value };
    case 'string':
      return { constant: expr.value };
    case 'name':
      return compileName(expr.name, expr.column, context);
    case 'call':
      return compileCall(expr, context);
    case 'not': {
      const arg = numeric(compile(expr.arg, context), expr.arg);
      if (arg.fn === undefined) return { constant: truth(arg.constant as number) ? 0 : 1 };
      const fn = arg.fn;
      return { fn: () => (truth(fn()) ? 0 : 1) };
    }
    case 'negate': {
      const arg = numeric(compile(expr.arg, context), expr.arg);
      if (arg.fn === undefined) return { constant: -(arg.constant as number) };
      const fn = arg.fn;
      return { fn: () => -fn() };
    }
    case 'logic':
      return compileLogic(expr.op, numeric(compile(expr.left, context), expr.left), numeric(compile(expr.right, context), expr.right));
    case 'arithmetic':
      return compileArithmetic(expr.op, numeric(compile(expr.left, context), expr.left), numeric(compile(expr.right, context), expr.right));
    case 'compare':
      return compileCompare(expr, compile(expr.left, context), compile(expr.right, context));
  }
}

function numeric(part: Part, at: Expr): Part {
  if (typeof part.constant === 'string') throw new ExpressionError('text is only allowed in == or != with a vehicle field', at.column);
  return part;
}

function compileName(name: string, column: number, context: Context): Part {
  const { env } = context;
  const state = env.states.get(name);
  if (state) {
    if (context.expanding.includes(name)) {
      throw new ExpressionError(`state '${name}' refers to itself (${[...context.expanding, name].join(' -> ')})`, column);
    }
    const outer = context.inState;
    context.expanding.push(name);
    context.inState = name;
    try {
      return compile(state, context);
    } catch (error) {
      // Report a problem inside a state at the place that uses it (the state's own text is checked on its own).
      if (error instanceof ExpressionError && outer === undefined) {
        throw new ExpressionError(`in state '${name}': ${error.message}`, column);
      }
      throw error;
    } finally {
      context.expanding.pop();
      context.inState = outer;
    }
  }
  if (Object.hasOwn(env.profile, name)) return { constant: env.profile[name] };
  const id = env.signalId(name);
  if (id === undefined) {
    const suggestion = closestName(name, [...env.signalNames(), ...env.states.keys(), ...Object.keys(env.profile)]);
    throw new ExpressionError(`unknown signal '${name}'${suggestion ? ` (did you mean '${suggestion}'?)` : ''}`, column);
  }
  context.signals.add(id);
  const values = env.values;
  return { fn: () => values[id] };
}

function compileLogic(op: 'and' | 'or', left: Part, right: Part): Part {
  if (left.fn === undefined && right.fn === undefined) {
    const a = truth(left.constant as number);
    const b = truth(right.constant as number);
    return { constant: op === 'and' ? a & b : a | b };
  }
  const l = asFn(left);
  const r = asFn(right);
  // Both sides always run (see the header comment).
  return op === 'and'
    ? { fn: () => truth(l()) & truth(r()) }
    : { fn: () => truth(l()) | truth(r()) };
}

function compileArithmetic(op: ArithmeticOp, left: Part, right: Part): Part {
  const apply = ARITHMETIC[op];
  if (left.fn === undefined && right.fn === undefined) return { constant: apply(left.constant as number, right.constant as number) };
  const l = asFn(left);
  const r = asFn(right);
  switch (op) {
    case '+':
      return { fn: () => l() + r() };
    case '-':
      return { fn: () => l() - r() };
    case '*':
      return { fn: () => l() * r() };
    case '/':
      return { fn: () => l() / r() };
    case '%':
      return { fn: () => l() % r() };
  }
}

const ARITHMETIC = {
  '+': (a: number, b: number) => a + b,
  '-': (a: number, b: number) => a - b,
  '*': (a: number, b: number) => a * b,
  '/': (a: number, b: number) => a / b,
  '%': (a: number, b: number) => a % b,
} as const;

function compileCompare(expr: Expr & { kind: 'compare' }, left: Part, right: Part): Part {
  const leftText = typeof left.constant === 'string';
  const rightText = typeof right.constant === 'string';
  if (leftText || rightText) {
    if (!(leftText && rightText)) {
      throw new ExpressionError('text compares only with a text vehicle field (brand, model, fuel_type, vin)', expr.column);
    }
    if (expr.op !== '==' && expr.op !== '!=') throw new ExpressionError(`text compares with == or !=, not '${expr.op}'`, expr.column);
    return { constant: (left.constant === right.constant) === (expr.op === '==') ? 1 : 0 };
  }
  if (left.fn === undefined && right.fn === undefined) {
    return { constant: compareNumbers(expr.op, left.constant as number, right.constant as number) };
  }
  const l = asFn(left);
  const r = asFn(right);
  switch (expr.op) {
    case '==':
      return { fn: () => (l() === r() ? 1 : 0) };
    case '!=':
      return { fn: () => { const a = l(); const b = r(); return a < b || a > b ? 1 : 0; } }; // false when unknown
    case '<':
      return { fn: () => (l() < r() ? 1 : 0) };
    case '<=':
      return { fn: () => (l() <= r() ? 1 : 0) };
    case '>':
      return { fn: () => (l() > r() ? 1 : 0) };
    case '>=':
      return { fn: () => (l() >= r() ? 1 : 0) };
  }
}

function compareNumbers(op: string, a: number, b: number): number {
  switch (op) {
    case '==':
      return a === b ? 1 : 0;
    case '!=':
      return a < b || a > b ? 1 : 0;
    case '<':
      return a < b ? 1 : 0;
    case '<=':
      return a <= b ? 1 : 0;
    case '>':
      return a > b ? 1 : 0;
    default:
      return a >= b ? 1 : 0;
  }
}

function asFn(part: Part): () => number {
  if (part.fn) return part.fn;
  const value = part.constant as number;
  return () => value;
}

const FUNCTIONS = ['changed', 'rising', 'falling', 'avg', 'min', 'max', 'abs', 'known'];

function compileCall(expr: Expr & { kind: 'call' }, context: Context): Part {
  const { name, args, column } = expr;
  const arity = (min: number, max: number): void => {
    if (args.length < min || args.length > max) {
      const wanted = min === max ? `${min}` : `${min} or ${max}`;
      throw new ExpressionError(`${name}() takes ${wanted} argument${max > 1 ? 's' : ''}, got ${args.length}`, column);
    }
  };
  switch (name) {
    case 'abs':
    case 'known': {
      arity(1, 1);
      const arg = numeric(compile(args[0], context), args[0]);
      if (arg.fn === undefined) {
        const v = arg.constant as number;
        return { constant: name === 'abs' ? Math.abs(v) : v === v ? 1 : 0 };
      }
      const fn = arg.fn;
      return name === 'abs' ? { fn: () => Math.abs(fn()) } : { fn: () => { const v = fn(); return v === v ? 1 : 0; } };
    }
    case 'changed':
      arity(1, 2);
      return compileChanged(expr, context);
    case 'rising':
    case 'falling':
      arity(1, 1);
      return compileEdge(expr, context);
    case 'avg':
    case 'min':
    case 'max':
      arity(2, 2);
      return compileWindow(expr, context);
    default: {
      const suggestion = closestName(name, FUNCTIONS);
      throw new ExpressionError(
        `unknown function '${name}'${suggestion ? ` (did you mean '${suggestion}'?)` : ` (known: ${FUNCTIONS.join(', ')})`}`,
        column,
      );
    }
  }
}

function refuseInState(expr: Expr & { kind: 'call' }, context: Context): void {
  if (context.inState !== undefined) {
    throw new ExpressionError(`${expr.name}() keeps state between evaluations and cannot be used in a state definition`, expr.column);
  }
  context.stateful = true;
}

function compileChanged(expr: Expr & { kind: 'call' }, context: Context): Part {
  refuseInState(expr, context);
  const input = asFn(numeric(compile(expr.args[0], context), expr.args[0]));
  let deadband = 0;
  if (expr.args.length === 2) {
    const band = compile(expr.args[1], context);
    if (band.fn !== undefined || typeof band.constant !== 'number' || !(band.constant >= 0)) {
      throw new ExpressionError('changed() deadband must be a number >= 0', startColumn(expr.args[1]));
    }
    deadband = band.constant;
  }
  let reference = NaN;
  return {
    fn: () => {
      const v = input();
      if (v !== v) return 0;
      if (reference !== reference) {
        reference = v;
        return 0;
      }
      if (Math.abs(v - reference) > deadband) {
        reference = v;
        return 1;
      }
      return 0;
    },
  };
}

function compileEdge(expr: Expr & { kind: 'call' }, context: Context): Part {
  refuseInState(expr, context);
  const input = asFn(numeric(compile(expr.args[0], context), expr.args[0]));
  const wanted = expr.name === 'rising' ? 1 : 0;
  let previous = -1; // -1: no evaluation yet
  return {
    fn: () => {
      const now = truth(input());
      const fired = previous === 1 - wanted && now === wanted ? 1 : 0;
      previous = now;
      return fired;
    },
  };
}

function compileWindow(expr: Expr & { kind: 'call' }, context: Context): Part {
  const [signalArg, durationArg] = expr.args;
  if (signalArg.kind !== 'name' || context.env.states.has(signalArg.name)) {
    throw new ExpressionError(`${expr.name}() needs a signal name as its first argument`, startColumn(signalArg));
  }
  const signalPart = compileName(signalArg.name, signalArg.column, context);
  if (signalPart.fn === undefined) throw new ExpressionError(`${expr.name}() needs a signal, not a vehicle field`, signalArg.column);
  const signal = context.env.signalId(signalArg.name) as number;
  let durationMs: number | undefined;
  if (durationArg.kind === 'string') durationMs = parseDuration(durationArg.value);
  else if (durationArg.kind === 'number') durationMs = durationArg.value * 1000;
  if (durationMs === undefined || !(durationMs > 0)) {
    throw new ExpressionError(`${expr.name}() window must be a duration like "10s"`, startColumn(durationArg));
  }
  context.windowSignals.add(signal);
  const window = context.env.window(signal, durationMs * 1000);
  const clock = context.env.clock;
  switch (expr.name) {
    case 'avg':
      return { fn: () => window.mean(clock.nowUs) };
    case 'min':
      return { fn: () => window.min(clock.nowUs) };
    default:
      return { fn: () => window.max(clock.nowUs) };
  }
}
