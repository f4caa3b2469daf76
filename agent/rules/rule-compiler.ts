/**
 * Compiles states and rules (config form) into closures and signal-id tables, reporting every problem
 * with its key path (`rules[2].when: unexpected ')' at column 14`). The config validator and the engine
 * both call this, so what loads is what runs.
 */
import type { PathSegment } from '../config/config-error.js';
import type { EventRuleConfig, RegularRuleConfig, RuleConfig, SampleMode, StatesConfig } from '../config/sections/rules.js';
import { closestName } from '../config/units.js';
import { compileExpression, type CompiledExpression, type ExpressionEnv } from './expression/expression-compiler.js';
import { ExpressionError, parseExpression, type Expr } from './expression/expression-parser.js';
import { SlidingWindow } from './expression/sliding-window.js';

export interface RuleIssue {
  path: PathSegment[];
  message: string;
}

/** One sliding window per (signal, duration), kept across rule updates when still used. */
export class WindowRegistry {
  private readonly windows = new Map<string, SlidingWindow>();

  constructor(private readonly previous?: WindowRegistry) {}

  get(signal: number, durationUs: number): SlidingWindow {
    const key = `${signal}/${durationUs}`;
    let window = this.windows.get(key) ?? this.previous?.windows.get(key);
    if (!window) window = new SlidingWindow(durationUs);
    this.windows.set(key, window);
    return window;
  }

  /** Windows by signal id (the engine pushes every sample of a signal into its windows). */
  bySignal(signalCount: number): SlidingWindow[][] {
    const out: SlidingWindow[][] = Array.from({ length: signalCount }, () => []);
    for (const [key, window] of this.windows) out[Number(key.split('/')[0])].push(window);
    return out;
  }
}

export interface CompiledRegularRule {
  config: RegularRuleConfig;
  periodUs: number;
  /** Absent: always active. */
  when?: CompiledExpression;
  entries: { signal: number; mode: SampleMode }[];
}

export interface CompiledEventRule {
  config: EventRuleConfig;
  when: CompiledExpression;
  capture: number[];
  preUs: number;
  postUs: number;
  minIntervalUs: number;
}

export interface CompiledRuleSet {
  regular: CompiledRegularRule[];
  events: CompiledEventRule[];
  /** The `ignition` state, which drives the built-in ignition_on / ignition_off events. */
  ignition?: CompiledExpression;
  /** Rules left out because their profile condition is false for this vehicle. */
  skipped: string[];
  windows: WindowRegistry;
}

export interface RuleCompileInput {
  signalNames: readonly string[];
  profile: Readonly<Record<string, number | string>>;
  states: StatesConfig;
  rules: readonly RuleConfig[];
  /** Current values and clock of the engine (a scratch set when only validating). */
  values?: Float64Array;
  clock?: { nowUs: number };
  /** Windows of the rule set being replaced, reused where the same (signal, duration) appears. */
  previousWindows?: WindowRegistry;
}

export function compileRuleSet(input: RuleCompileInput): { ruleSet: CompiledRuleSet; issues: RuleIssue[] } {
  const issues: RuleIssue[] = [];
  const ids = new Map(input.signalNames.map((name, id) => [name, id]));
  const windows = new WindowRegistry(input.previousWindows);
  const states = parseStates(input, ids, issues);
  const env: ExpressionEnv = {
    signalId: (name) => ids.get(name),
    signalNames: () => ids.keys(),
    values: input.values ?? new Float64Array(input.signalNames.length).fill(NaN),
    clock: input.clock ?? { nowUs: 0 },
    profile: input.profile,
    states,
    window: (signal, durationUs) => windows.get(signal, durationUs),
  };
  const ruleSet: CompiledRuleSet = { regular: [], events: [], skipped: [], windows };
  for (const [name, expr] of states) {
    const compiled = compileAt(expr, env, ['states', name], issues, name);
    if (name === 'ignition') ruleSet.ignition = compiled;
  }

  input.rules.forEach((rule, index) => {
    const at: PathSegment[] = ['rules', index];
    const before = issues.length;
    const included = rule.profile === undefined || profileHolds(rule.profile, env, [...at, 'profile'], issues);
    if (rule.type === 'regular') {
      const compiled = compileRegular(rule, env, ids, at, issues);
      if (included && issues.length === before) ruleSet.regular.push(compiled);
    } else {
      const compiled = compileEvent(rule, env, ids, at, issues);
      if (included && compiled && issues.length === before) ruleSet.events.push(compiled);
    }
    if (!included) ruleSet.skipped.push(rule.name);
  });
  return { ruleSet, issues };
}

function parseStates(input: RuleCompileInput, ids: Map<string, number>, issues: RuleIssue[]): Map<string, Expr> {
  const states = new Map<string, Expr>();
  for (const [name, text] of Object.entries(input.states)) {
    if (ids.has(name) || Object.hasOwn(input.profile, name)) {
      issues.push({ path: ['states', name], message: `'${name}' is already a ${ids.has(name) ? 'signal' : 'vehicle field'} name` });
      continue;
    }
    const expr = parseAt(text, ['states', name], issues);
    if (expr) states.set(name, expr);
  }
  return states;
}

function parseAt(text: string, path: PathSegment[], issues: RuleIssue[]): Expr | undefined {
  try {
    return parseExpression(text);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    issues.push({ path, message: error.message });
    return undefined;
  }
}

function compileAt(expr: Expr, env: ExpressionEnv, path: PathSegment[], issues: RuleIssue[], asState?: string): CompiledExpression | undefined {
  try {
    return compileExpression(expr, env, asState);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    issues.push({ path, message: error.message });
    return undefined;
  }
}

function parseAndCompile(text: string, env: ExpressionEnv, path: PathSegment[], issues: RuleIssue[]): CompiledExpression | undefined {
  const expr = parseAt(text, path, issues);
  return expr && compileAt(expr, env, path, issues);
}

function profileHolds(text: string, env: ExpressionEnv, path: PathSegment[], issues: RuleIssue[]): boolean {
  const compiled = parseAndCompile(text, env, path, issues);
  if (!compiled) return false;
  if (compiled.constant === undefined) {
    issues.push({ path, message: `may only use vehicle fields (${Object.keys(env.profile).join(', ')}), not signals` });
    return false;
  }
  return compiled.constant === compiled.constant && compiled.constant !== 0;
}

function resolveSignal(name: string, ids: Map<string, number>, path: PathSegment[], issues: RuleIssue[]): number | undefined {
  const id = ids.get(name);
  if (id === undefined) {
    const suggestion = closestName(name, ids.keys());
    issues.push({ path, message: `unknown signal '${name}' (not in signals:)${suggestion ? `, did you mean '${suggestion}'?` : ''}` });
  }
  return id;
}

function compileRegular(rule: RegularRuleConfig, env: ExpressionEnv, ids: Map<string, number>, at: PathSegment[], issues: RuleIssue[]): CompiledRegularRule {
  const when = rule.when === undefined ? undefined : parseAndCompile(rule.when, env, [...at, 'when'], issues);
  const entries: CompiledRegularRule['entries'] = [];
  rule.signals.forEach((entry, j) => {
    const path = [...at, 'signals', j];
    const signal = resolveSignal(entry.signal, ids, path, issues);
    if (signal === undefined) return;
    if (entries.some((e) => e.signal === signal && e.mode === entry.sample)) {
      issues.push({ path, message: `'${entry.signal}' (${entry.sample}) is listed twice` });
      return;
    }
    entries.push({ signal, mode: entry.sample });
  });
  return { config: rule, periodUs: rule.periodMs * 1000, when: when?.constant === undefined ? when : constantWhen(when), entries };
}

/** A constant `when` that holds is the same as no `when`; one that does not never samples. */
function constantWhen(when: CompiledExpression): CompiledExpression | undefined {
  return when.constant === when.constant && when.constant !== 0 ? undefined : when;
}

function compileEvent(rule: EventRuleConfig, env: ExpressionEnv, ids: Map<string, number>, at: PathSegment[], issues: RuleIssue[]): CompiledEventRule | undefined {
  const when = parseAndCompile(rule.when, env, [...at, 'when'], issues);
  if (when && when.signals.length + when.windowSignals.length === 0) {
    issues.push({ path: [...at, 'when'], message: 'reads no signal, so it would never be evaluated' });
  }
  let capture: number[] = [];
  if (rule.capture) {
    rule.capture.forEach((name, j) => {
      const id = resolveSignal(name, ids, [...at, 'capture', j], issues);
      if (id !== undefined && !capture.includes(id)) capture.push(id);
    });
  } else if (when) {
    capture = [...new Set([...when.signals, ...when.windowSignals])];
  }
  if (!when) return undefined;
  return { config: rule, when, capture, preUs: rule.preMs * 1000, postUs: rule.postMs * 1000, minIntervalUs: rule.minIntervalMs * 1000 };
}
