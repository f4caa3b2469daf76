import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../agent/config/config-error.js';
import { readRulesDocument } from '../../agent/config/rules-document.js';
import type { SignalCatalogEntry } from '../../agent/config/sections/signals.js';
import { createSampleBatch } from '../../agent/decode/sample-batch.js';
import { RulesEngine } from '../../agent/rules/rules-engine.js';
import { buildSignalMap } from '../../agent/rules/signal-map.js';
import { RuleOutputCollector } from '../helpers/rule-output-collector.js';
import { Priority } from '../../wire/priority.js';
import { decodedIngester } from '../helpers/ingest-decoded.js';

const S = 1_000_000;
/** A base time that is not on a period boundary (2023-11-14T22:13:20.05Z). */
const T0 = 1_700_000_000_050_000;

interface Setup {
  signals: string[];
  rules?: unknown[];
  states?: Record<string, string>;
  profile?: Record<string, number | string>;
}

function setup({ signals, rules = [], states = {}, profile = { model_year: 2021, fuel_type: 'petrol', brand: 'Peugeot', model: '208', vin: 'VF3ABCDEFGH123456' } }: Setup) {
  const out = new RuleOutputCollector();
  const document = readRulesDocument({ rules, states }, signals);
  const engine = new RulesEngine({ signals, profile, states: document.states, rules: document.rules, output: out });
  return { engine, out };
}

/** A sample series of one signal as parallel arrays. */
function series(times: number[], values: number[], signal: number) {
  return { signal: times.map(() => signal), times, values };
}

/** Interleaves several series by time (stable), as samples would come from a bus. */
function merge(...parts: { signal: number[]; times: number[]; values: number[] }[]) {
  const all = parts.flatMap((p) => p.times.map((t, i) => ({ t, s: p.signal[i], v: p.values[i] })));
  all.sort((a, b) => a.t - b.t);
  return { signal: all.map((x) => x.s), times: all.map((x) => x.t), values: all.map((x) => x.v) };
}

describe('regular rules', () => {
  // 10 Hz for 5.5 s, values that jump around.
  const times = Array.from({ length: 55 }, (_, i) => T0 + i * 100_000);
  const values = times.map((_, i) => ((i * 37) % 23) - 5 + i / 10);

  /** Expected per period, computed straight from the series: periods are [kS, (k+1)S), reported at (k+1)S. */
  function expectedPeriods() {
    const byPeriod = new Map<number, number[]>();
    times.forEach((t, i) => {
      const boundary = (Math.floor(t / S) + 1) * S;
      byPeriod.set(boundary, [...(byPeriod.get(boundary) ?? []), values[i]]);
    });
    return [...byPeriod].map(([boundary, v]) => ({
      boundary,
      last: v[v.length - 1],
      min: Math.min(...v),
      max: Math.max(...v),
      avg: v.reduce((a, b) => a + b, 0) / v.length,
    }));
  }

  it('reports last/min/max/avg once per period at period boundaries of sample time', () => {
    const { engine, out } = setup({
      signals: ['speed'],
      rules: [{ name: 'r', type: 'regular', period: '1s', signals: ['speed', { signal: 'speed', sample: 'min' }, { signal: 'speed', sample: 'max' }, { signal: 'speed', sample: 'avg' }] }],
    });
    const s = series(times, values, 0);
    engine.ingestSamples(s.signal, s.times, s.values);
    engine.advanceTo(times[times.length - 1] + S); // closes the last period
    const expected = expectedPeriods();
    expect(expected.length).toBe(6);
    const got = out.samplesOf('r');
    expect(got.length).toBe(4 * expected.length);
    expected.forEach((period, k) => {
      const four = got.slice(4 * k, 4 * k + 4);
      expect(four.map((x) => x.timeUs)).toEqual([period.boundary, period.boundary, period.boundary, period.boundary]);
      expect(four[0].value).toBe(period.last);
      expect(four[1].value).toBe(period.min);
      expect(four[2].value).toBe(period.max);
      expect(four[3].value).toBeCloseTo(period.avg, 12);
    });
  });

  it('gives the same output whatever the batch boundaries (replay speed does not matter)', () => {
    const run = (chunk: number) => {
      const { engine, out } = setup({
        signals: ['speed'],
        rules: [
          { name: 'r', type: 'regular', period: '500ms', signals: [{ signal: 'speed', sample: 'avg' }] },
          { name: 'e', type: 'event', when: 'rising(speed > 10)', pre: '1s', post: '300ms' },
        ],
      });
      for (let i = 0; i < times.length; i += chunk) {
        const end = Math.min(times.length, i + chunk);
        engine.ingestSamples(new Array(end - i).fill(0), times.slice(i, end), values.slice(i, end));
      }
      engine.finish();
      return JSON.stringify({ samples: out.samples, events: out.events.map((e) => ({ ...e, window: e.window && { ...e.window, timeUs: e.window.timeUs.map((a) => [...a]) } })) });
    };
    const whole = run(times.length);
    expect(run(1)).toBe(whole);
    expect(run(7)).toBe(whole);
    expect(JSON.parse(whole).events.length).toBeGreaterThan(2);
  });

  it('switches rule sets with the vehicle state (driving: 1 s, parked: 5 s)', () => {
    const { engine, out } = setup({
      signals: ['ign', 'speed'],
      states: { ignition: 'ign == 1', driving: 'ignition and speed > 3', parked: 'not ignition' },
      rules: [
        { name: 'fast', type: 'regular', when: 'driving', period: '1s', signals: ['speed'] },
        { name: 'slow', type: 'regular', when: 'parked', period: '5s', priority: 'low', signals: ['speed'] },
      ],
    });
    const base = 1_700_000_000 * S; // on a 5 s boundary
    const t = Array.from({ length: 300 }, (_, i) => base + i * 100_000); // 30 s at 10 Hz
    const ign = t.map((ti) => (ti - base >= 10 * S && ti - base < 25 * S ? 1 : 0));
    const speed = t.map((ti) => (ti - base >= 12 * S && ti - base < 22 * S ? 50 : 0));
    const input = merge(series(t, ign, 0), series(t, speed, 1));
    engine.ingestSamples(input.signal, input.times, input.values);
    engine.advanceTo(base + 30 * S);

    // Reference: a rule reports at boundary b when its state holds with the values last seen before b.
    const valueBefore = (v: number[], b: number) => v[t.findLastIndex((ti) => ti < b)];
    const driving = (b: number) => valueBefore(ign, b) === 1 && valueBefore(speed, b) > 3;
    const boundaries = (period: number) => Array.from({ length: 30 * S / period }, (_, k) => base + (k + 1) * period);
    const expectFast = boundaries(S).filter(driving);
    const expectSlow = boundaries(5 * S).filter((b) => valueBefore(ign, b) === 0);
    expect(expectFast.length).toBe(10);
    expect(out.samplesOf('fast').map((x) => x.timeUs)).toEqual(expectFast);
    expect(out.samplesOf('fast').every((x) => x.value === 50 && x.priority === Priority.normal)).toBe(true);
    expect(out.samplesOf('slow').map((x) => x.timeUs)).toEqual(expectSlow);
    expect(out.samplesOf('slow').every((x) => x.priority === Priority.low)).toBe(true);
    // Built-in ignition events at the sample where the ignition state changed.
    expect(out.events.map((e) => [e.kind, e.timeUs - base])).toEqual([
      ['ignition_on', 10 * S],
      ['ignition_off', 25 * S],
    ]);
    expect(out.events[0]).toMatchObject({ rule: 'ignition_on', priority: Priority.high, immediate: true, values: { ign: 1 } });
  });

  it('installs a rule only for vehicles whose profile matches', () => {
    const rules = [
      { name: 'new_cars', type: 'regular', period: '1s', profile: 'model_year >= 2020 and fuel_type == "petrol"', signals: ['speed'] },
      { name: 'all_cars', type: 'regular', period: '1s', signals: ['speed'] },
    ];
    const run = (profile: Record<string, number | string>) => {
      const { engine, out } = setup({ signals: ['speed'], rules, profile });
      engine.ingestSamples([0, 0], [T0, T0 + 2 * S], [1, 2]);
      return { skipped: engine.skippedRules, rules: new Set(out.samples.map((x) => x.rule)) };
    };
    expect(run({ model_year: 2021, fuel_type: 'petrol' })).toEqual({ skipped: [], rules: new Set(['new_cars', 'all_cars']) });
    expect(run({ model_year: 2019, fuel_type: 'petrol' })).toEqual({ skipped: ['new_cars'], rules: new Set(['all_cars']) });
    expect(run({ model_year: 2022, fuel_type: 'electric' })).toEqual({ skipped: ['new_cars'], rules: new Set(['all_cars']) });
  });
});

describe('event rules', () => {
  it('respects the minimum interval between triggers', () => {
    const { engine, out } = setup({
      signals: ['speed'],
      rules: [{ name: 'fast', type: 'event', when: 'speed > 100', min_interval: '2s', priority: 'high' }],
    });
    const t = Array.from({ length: 100 }, (_, i) => T0 + i * 100_000);
    const v = t.map((_, i) => (i >= 10 && i < 70 ? 101 + (i % 2) : 50));
    engine.ingestSamples(new Array(t.length).fill(0), t, v);
    // Reference: fire at each sample where the condition holds, unless the last fire is under 2 s ago.
    const expected: number[] = [];
    let holds = 0;
    t.forEach((ti, i) => {
      if (v[i] > 100) {
        holds++;
        if (expected.length === 0 || ti - expected[expected.length - 1] >= 2 * S) expected.push(ti);
      }
    });
    expect(expected.length).toBe(3);
    expect(out.events.map((e) => e.timeUs)).toEqual(expected);
    expect(out.events.every((e) => e.priority === Priority.high && !e.immediate)).toBe(true);
    expect(engine.stats.suppressed).toBe(holds - expected.length);
  });

  it('captures the pre- and post-trigger windows and sends the event once the post window is complete', () => {
    const { engine, out } = setup({
      signals: ['speed', 'brake', 'other'],
      rules: [{ name: 'braking', type: 'event', when: 'rising(brake > 0.5)', capture: ['speed', 'brake'], pre: '2s', post: '1s', priority: 'critical', immediate: true }],
    });
    const t = Array.from({ length: 100 }, (_, i) => T0 + i * 100_000);
    const speed = t.map((_, i) => 80 - i * 0.5);
    const brake = t.map((_, i) => (i >= 50 && i < 60 ? 1 : 0));
    const other = t.map((_, i) => i);
    const input = merge(series(t, speed, 0), series(t, brake, 1), series(t, other, 2));
    const trigger = t[50];
    const cut = input.times.findLastIndex((ti) => ti <= trigger + S);
    engine.ingestSamples(input.signal.slice(0, cut + 1), input.times.slice(0, cut + 1), input.values.slice(0, cut + 1));
    expect(out.events).toEqual([]); // the post window is not over yet
    expect(engine.pendingEvents).toBe(1);
    engine.ingestSamples(input.signal.slice(cut + 1), input.times.slice(cut + 1), input.values.slice(cut + 1));
    expect(out.events.length).toBe(1);
    const event = out.events[0];
    expect(event).toMatchObject({ rule: 'braking', kind: 'rule', priority: Priority.critical, immediate: true, timeUs: trigger, values: { speed: speed[50], brake: 1 } });
    const inWindow = (ti: number) => ti >= trigger - 2 * S && ti <= trigger + S;
    expect(event.window?.names).toEqual(['speed', 'brake']);
    expect([...(event.window?.timeUs[0] ?? [])]).toEqual(t.filter(inWindow));
    expect([...(event.window?.value[0] ?? [])]).toEqual(speed.filter((_, i) => inWindow(t[i])));
    expect([...(event.window?.value[1] ?? [])]).toEqual(brake.filter((_, i) => inWindow(t[i])));
    expect(event.window?.timeUs[0].length).toBe(31);
  });

  it('changed() honours its deadband, falling() and window averages fire where a direct computation says', () => {
    const { engine, out } = setup({
      signals: ['temp', 'speed'],
      rules: [
        { name: 'temp_step', type: 'event', when: 'changed(temp, 1)', priority: 'low' },
        { name: 'slowing', type: 'event', when: 'falling(speed > 30)' },
        { name: 'avg_fast', type: 'event', when: 'rising(avg(speed, "1s") > 50)' },
      ],
    });
    const temps = [20, 20.5, 21.2, 22.0, 21.1, 19.9, 19.9, 21.0];
    engine.ingestSamples(temps.map(() => 0), temps.map((_, i) => T0 + i * S), temps);
    expect(out.eventsOf('temp_step').map((e) => (e.timeUs - T0) / S)).toEqual([2, 5, 7]);

    const t = Array.from({ length: 200 }, (_, i) => T0 + 100 * S + i * 50_000);
    const speed = t.map((_, i) => 60 + 40 * Math.sin(i / 15));
    engine.ingestSamples(t.map(() => 1), t, speed);
    const falling = t.filter((_, i) => i > 0 && speed[i - 1] > 30 && !(speed[i] > 30));
    expect(falling.length).toBeGreaterThan(1);
    expect(out.eventsOf('slowing').map((e) => e.timeUs)).toEqual(falling);
    const avg = t.map((ti) => {
      const inside = speed.filter((_, j) => t[j] > ti - S && t[j] <= ti);
      return inside.reduce((a, b) => a + b, 0) / inside.length;
    });
    const rising = t.filter((_, i) => i > 0 && !(avg[i - 1] > 50) && avg[i] > 50);
    expect(rising.length).toBeGreaterThan(1);
    expect(out.eventsOf('avg_fast').map((e) => e.timeUs)).toEqual(rising);
  });

  it('evaluates a condition only when one of its signals changed', () => {
    const { engine } = setup({ signals: ['speed', 'rpm'], rules: [{ name: 'e', type: 'event', when: 'speed > 1000' }] });
    engine.ingestSamples(new Array(100).fill(0), Array.from({ length: 100 }, (_, i) => T0 + i), new Array(100).fill(42));
    expect(engine.stats.evaluations).toBe(1);
    engine.ingestSamples(new Array(100).fill(1), Array.from({ length: 100 }, (_, i) => T0 + 100 + i), Array.from({ length: 100 }, (_, i) => i));
    expect(engine.stats.evaluations).toBe(1);
    engine.ingestSamples([0, 0, 0], [T0 + 300, T0 + 301, T0 + 302], [43, 43, 44]);
    expect(engine.stats.evaluations).toBe(3);
  });
});

describe('rule updates', () => {
  it('replaces rules atomically: a bad set is refused whole and the running rules keep going', () => {
    const { engine, out } = setup({ signals: ['speed'], rules: [{ name: 'a', type: 'regular', period: '1s', signals: ['speed'] }] });
    engine.ingestSamples([0, 0], [T0, T0 + S], [1, 2]);
    expect(out.samplesOf('a').length).toBe(1);
    const bad = readRulesDocument(
      { rules: [{ name: 'b', type: 'regular', period: '1s', signals: ['speed'] }, { name: 'c', type: 'event', when: 'speed > (3' }] },
      ['speed'],
    ).rules;
    expect(() => engine.replaceRules(bad)).toThrow(ConfigError);
    try {
      engine.replaceRules(bad);
    } catch (error) {
      expect((error as ConfigError).issues).toEqual([{ path: 'rules[1].when', message: "unexpected end of expression, expected ')' at column 11" }]);
    }
    engine.ingestSamples([0], [T0 + 2 * S], [3]);
    expect(out.samplesOf('a').length).toBe(2);
    expect(out.samplesOf('b').length).toBe(0);
    expect(engine.rules.map((r) => r.name)).toEqual(['a']);
  });

  it('patches rules by name and keeps min_interval timers of rules that stay', () => {
    const { engine, out } = setup({
      signals: ['speed'],
      rules: [
        { name: 'a', type: 'regular', period: '1s', signals: ['speed'] },
        { name: 'e', type: 'event', when: 'speed > 10', min_interval: '10s' },
      ],
    });
    engine.ingestSamples([0, 0], [T0, T0 + S], [11, 12]);
    expect(out.eventsOf('e').map((e) => e.timeUs)).toEqual([T0]);
    const patch = readRulesDocument(
      {
        rules: [
          { name: 'e', type: 'event', when: 'speed > 10', min_interval: '10s', priority: 'high' },
          { name: 'b', type: 'regular', period: '2s', signals: [{ signal: 'speed', sample: 'max' }] },
        ],
      },
      ['speed'],
    ).rules;
    engine.patchRules(patch, ['a']);
    expect(engine.rules.map((r) => r.name)).toEqual(['e', 'b']);
    engine.ingestSamples([0, 0, 0], [T0 + 5 * S, T0 + 9 * S, T0 + 11 * S], [13, 14, 15]);
    // 'e' kept its last trigger time: it fires again only 10 s after T0.
    expect(out.eventsOf('e').map((e) => [e.timeUs, e.priority])).toEqual([[T0, Priority.normal], [T0 + 11 * S, Priority.high]]);
    expect(out.samplesOf('a').length).toBe(1);
    expect(out.samplesOf('b').map((x) => x.value)).toEqual([13, 14]);
  });
});

describe('catalog mapping', () => {
  it('maps decoder signal indexes to vehicle signals with scale/offset and value maps', () => {
    const { engine } = setup({ signals: ['Vehicle.Speed', 'Door', 'Mil'] });
    const catalog: SignalCatalogEntry[] = [
      { name: 'Vehicle.Speed', source: { message: 'M1', signal: 'SPD_MPH' }, unit: 'km/h', scale: 1.609344, offset: 0 },
      { name: 'Door', source: { bus: 'body', message: 'M2', signal: 'DOOR' }, unit: '', scale: 1, offset: 0, map: new Map([[2, 1]]), mapDefault: 0 },
      { name: 'Mil', source: { message: 'M3', signal: 'MIL' }, unit: '', scale: 1, offset: 0, map: new Map([[-1, 1]]) },
    ];
    const decoderSignals = [
      { message: 'M0', signal: 'X' },
      { message: 'M1', signal: 'SPD_MPH' },
      { bus: 'chassis', message: 'M2', signal: 'DOOR' }, // wrong bus: not mapped
      { bus: 'body', message: 'M2', signal: 'DOOR' },
      { message: 'M3', signal: 'MIL' },
    ];
    const map = buildSignalMap(catalog, (name) => engine.signalId(name), decoderSignals);
    expect([...map.vehicleId]).toEqual([-1, 0, -1, 1, 2]);
    expect(map.unmatched).toEqual([]);
    const batch = createSampleBatch(8);
    const put = (signal: number, value: number) => {
      const k = batch.count++;
      batch.signal[k] = signal;
      batch.value[k] = value;
      batch.timeUs[k] = T0 + k;
    };
    put(0, 5);
    put(1, 100);
    put(3, 2);
    put(4, 0);
    const ingest = decodedIngester(engine, map);
    let unmapped = ingest(batch);
    expect(engine.values[0]).toBeCloseTo(160.9344, 10);
    expect(engine.values[1]).toBe(1);
    expect(engine.values[2]).toBe(0); // not in the map and no default: passes through
    batch.count = 0;
    put(3, 3);
    put(4, -1);
    unmapped += ingest(batch);
    expect([engine.values[1], engine.values[2]]).toEqual([0, 1]);
    expect(engine.stats).toMatchObject({ samples: 5 });
    expect(unmapped).toBe(1);
  });
});
