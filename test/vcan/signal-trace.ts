// What the agent stored about catalog signals, in a form that does not depend on frame timing, and
// the same computed from cantools' reference decode of a corpus log (an independent decoder).
//
// The rules: one event rule per signal, `changed(signal)`, so the store holds every change in order;
// and a 1 s regular rule sampling each signal's min and max, whose overall extremes are those of
// every sample however the periods fall.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { expect } from 'vitest';
import type { Agent } from '../../agent/runtime/agent.js';
import { storedContent } from './agent-harness.js';

export interface SignalTrace {
  /** The value after each change, in order (the first value is the baseline, not a change). */
  changes: number[];
  /** Smallest and largest value; absent when the signal never had one. */
  extremes?: [number, number];
}

const PERIOD_US = 1_000_000;

/** The `rules:` section for `names` (catalog signal names). */
export function traceRulesYaml(names: readonly string[]): string {
  return [
    'rules:',
    '  - name: extremes',
    '    type: regular',
    '    period: 1s',
    '    signals:',
    ...names.flatMap((n) => [`      - { signal: ${n}, sample: min }`, `      - { signal: ${n}, sample: max }`]),
    ...names.map((n, i) => `  - { name: change_${i}, type: event, when: "changed(${n})" }`),
  ].join('\n');
}

/**
 * End of input: closes the regular rule's last period (one period past the last sample), commits,
 * reads the store back and stops the agent.
 */
export async function finishAndTrace(agent: Agent, names: readonly string[]): Promise<Map<string, SignalTrace>> {
  agent.engine.advanceTo(agent.engine.nowUs + PERIOD_US + 1);
  await agent.drained();
  const content = storedContent(agent);
  await agent.stop();
  const traces = new Map<string, SignalTrace>(names.map((n) => [n, { changes: [] }]));
  for (const event of content.events) {
    const name = names[Number(event.rule.replace('change_', ''))];
    traces.get(name)!.changes.push(event.values[name]);
  }
  for (const [name, values] of content.samples) {
    const trace = traces.get(name);
    if (trace) trace.extremes = [Math.min(...values), Math.max(...values)];
  }
  return traces;
}

/**
 * Traces from a cantools reference decode (JSON Lines, gzip, in log order; see the corpus README),
 * up to and including frames at `lastTime`. `sources` maps "Message.Signal" to the catalog name.
 */
export function cantoolsTraces(referenceFile: string, sources: ReadonlyMap<string, string>, lastTime: string): Map<string, SignalTrace> {
  const traces = new Map<string, SignalTrace>([...sources.values()].map((n) => [n, { changes: [] }]));
  const last = new Map<string, number>();
  for (const line of gunzipSync(readFileSync(referenceFile)).toString().split('\n')) {
    if (line === '') continue;
    const record = JSON.parse(line) as { t: string; msg: string; sig: Record<string, number>; err?: string };
    if (Number(record.t) > Number(lastTime)) break;
    if (record.err && [...sources.keys()].some((k) => k.startsWith(`${record.msg}.`))) {
      throw new Error(`${referenceFile}: cantools could not decode ${record.msg} at ${record.t} (${record.err})`);
    }
    for (const [signal, value] of Object.entries(record.sig)) {
      const name = sources.get(`${record.msg}.${signal}`);
      if (!name) continue;
      const trace = traces.get(name)!;
      const previous = last.get(name);
      if (previous !== undefined && previous !== value) trace.changes.push(value);
      last.set(name, value);
      const [lo, hi] = trace.extremes ?? [Infinity, -Infinity];
      trace.extremes = [Math.min(lo, value), Math.max(hi, value)];
    }
  }
  return traces;
}

/** Equal traces, values within 1e-9 of their magnitude (cantools prints doubles such as -0.08000000000000007). */
export function expectTracesClose(actual: ReadonlyMap<string, SignalTrace>, expected: ReadonlyMap<string, SignalTrace>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  const close = (a: number[], e: number[], what: string) => {
    expect(a.length, `${what}: ${JSON.stringify(a)} vs ${JSON.stringify(e)}`).toBe(e.length);
    a.forEach((v, i) => expect(Math.abs(v - e[i]), `${what}[${i}]: ${v} vs ${e[i]}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(e[i]))));
  };
  for (const [name, e] of expected) {
    const a = actual.get(name)!;
    close(a.changes, e.changes, `${name} changes`);
    expect(a.extremes === undefined, `${name} has samples: ${JSON.stringify(a.extremes)} vs ${JSON.stringify(e.extremes)}`).toBe(e.extremes === undefined);
    if (a.extremes && e.extremes) close(a.extremes, e.extremes, `${name} min/max`);
  }
}
