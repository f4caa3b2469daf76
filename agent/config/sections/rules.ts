/**
 * `states:` and `rules:` — the shape of refresh rules. The expressions inside are checked against
 * the signal catalog by agent/rules/rule-compiler.ts (the same code the engine runs), so a rule the
 * config accepts is a rule the engine can install.
 */
import type { ValueNode } from '../config-reader.js';
import { readPriority } from './priority.js';
import { type PriorityLevel } from '../../../wire/priority.js';

export const SAMPLE_MODES = ['last', 'min', 'max', 'avg'] as const;
export type SampleMode = (typeof SAMPLE_MODES)[number];

export interface SampledSignal {
  signal: string;
  /** What a period reports: the value at the period's end, or the min/max/mean of its samples. */
  sample: SampleMode;
}

interface RuleCommon {
  name: string;
  /** Condition on the vehicle profile (`model_year >= 2020`): the rule is installed only when it holds. */
  profile?: string;
  priority: PriorityLevel;
}

export interface RegularRuleConfig extends RuleCommon {
  type: 'regular';
  /** Samples only while this condition holds (a state name such as `driving`, or an expression). */
  when?: string;
  periodMs: number;
  /** Upload stream the samples belong to (the store keeps a sequence per stream). */
  stream: string;
  signals: SampledSignal[];
}

export interface EventRuleConfig extends RuleCommon {
  type: 'event';
  /** Fires at each evaluation where this holds (use rising(...) to fire once per transition). */
  when: string;
  minIntervalMs: number;
  /** Seconds of the captured signals before and after the trigger sent with the event. */
  preMs: number;
  postMs: number;
  /** Captured signals; the signals of `when` when absent. */
  capture?: string[];
  immediate: boolean;
}

export type RuleConfig = RegularRuleConfig | EventRuleConfig;

/** Named conditions: name → expression text. `ignition` also drives the ignition_on/off events. */
export type StatesConfig = Record<string, string>;

export const RULE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const RULE_NAME_HINT = 'a name of letters, digits, _, . or -';
export const RESERVED_RULE_NAMES = ['ignition_on', 'ignition_off'];
const STATE_NAME = /^[a-z_][a-z0-9_]*$/;
const MAX_WINDOW_MS = 10 * 60_000;

export function readStates(node: ValueNode): StatesConfig {
  const states: StatesConfig = {};
  for (const [name, expression] of node.entries((item, key) => {
    if (!STATE_NAME.test(key)) return item.problem('a state name is lower-case letters, digits and _ (like driving)');
    return item.string({ required: true });
  })) {
    states[name] = expression;
  }
  return states;
}

export function readRules(node: ValueNode): RuleConfig[] {
  const rules = node.list(readRule);
  const seen = new Set<string>();
  rules.forEach((rule, i) => {
    if (seen.has(rule.name)) node.child(i).child('name').problem(`duplicate rule name '${rule.name}'`);
    seen.add(rule.name);
  });
  return rules;
}

export function readRule(item: ValueNode): RuleConfig | undefined {
  const r = item.object();
  if (!r) return undefined;
  const nameNode = r.get('name');
  let name = nameNode.string({ required: true, pattern: RULE_NAME, hint: RULE_NAME_HINT });
  if (name !== undefined && RESERVED_RULE_NAMES.includes(name)) name = nameNode.problem(`'${name}' is the name of a built-in event`);
  const type = r.oneOf('type', ['regular', 'event'] as const, { required: true });
  const common = {
    name: name ?? '',
    profile: r.string('profile'),
    priority: readPriority(r, 'normal'),
  };
  let rule: RuleConfig | undefined;
  if (type === 'regular') {
    rule = {
      ...common,
      type,
      when: r.string('when'),
      periodMs: r.duration('period', { required: true, minMs: 10 }) ?? 0,
      stream: r.string('stream', { default: 'data', pattern: /^[a-z0-9_-]{1,32}$/, hint: 'a short lower-case name' }),
      signals: r.list('signals', readSampledSignal, { required: true, minItems: 1 }),
    };
  } else if (type === 'event') {
    rule = {
      ...common,
      type,
      when: r.string('when', { required: true }) ?? '',
      minIntervalMs: r.duration('min_interval', { default: 0 }),
      preMs: readWindow(r.get('pre')),
      postMs: readWindow(r.get('post')),
      capture: r.has('capture') ? r.list('capture', (signal) => signal.string({ required: true })) : undefined,
      immediate: r.boolean('immediate', { default: false }),
    };
  }
  const regularKeys = ['when', 'period', 'stream', 'signals'];
  const eventKeys = ['when', 'min_interval', 'pre', 'post', 'capture', 'immediate'];
  // Keys of the other rule type are reported as unknown for this one.
  r.done(type ? [] : [...regularKeys, ...eventKeys]);
  return name === undefined ? undefined : rule;
}

function readWindow(node: ValueNode): number {
  const ms = node.duration({ default: 0 });
  if (ms > MAX_WINDOW_MS) node.problem(`must be at most ${MAX_WINDOW_MS / 60_000} minutes`);
  return ms;
}

/** `Vehicle.Speed` (its last value) or `{ signal: Vehicle.Speed, sample: max }`. */
function readSampledSignal(item: ValueNode): SampledSignal | undefined {
  if (typeof item.value === 'string') return { signal: item.value, sample: 'last' };
  const r = item.object({ required: true });
  if (!r) return undefined;
  const signal = r.string('signal', { required: true });
  const sample = r.oneOf('sample', SAMPLE_MODES, { default: 'last' });
  r.done();
  return signal === undefined ? undefined : { signal, sample };
}
