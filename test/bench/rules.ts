/**
 * The rules engine alone: decoded SampleBatches already in memory → RulesEngine.ingest (catalog
 * mapping, history, windows, regular accumulators, condition evaluation) → a counting RuleOutput.
 * One regular rule set (3 rules on 12 signal entries, two of them state-dependent) and 6 event rules
 * (thresholds, edges, changed() with deadband, a 2 s window average, a pre/post capture).
 *
 * Two inputs:
 * - synthetic: 16 mapped signals whose values change at every sample, 4 signals per frame time,
 *   4 frames per millisecond (the worst case: every sample dirties conditions);
 * - kona: the Kona log decoded with hyundai_can.dbc, repeated with shifted times; 16 of its signals
 *   are in the catalog, the other samples are skipped by the mapping (a real bus mix).
 */
import { readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import type { RuleConfig, StatesConfig } from '../../agent/config/sections/rules.js';
import type { SignalCatalogEntry } from '../../agent/config/sections/signals.js';
import { readRulesDocument } from '../../agent/config/rules-document.js';
import { loadDbcFile } from '../../agent/decode/dbc-loader.js';
import { Decoder } from '../../agent/decode/decoder.js';
import { createSampleBatch, type SampleBatch } from '../../agent/decode/sample-batch.js';
import type { EventTrigger, RuleOutput } from '../../agent/rules/rule-output.js';
import { RulesEngine } from '../../agent/rules/rules-engine.js';
import { buildSignalMap, decoderSignalRefs, type SignalMap } from '../../agent/rules/signal-map.js';
import { createFrameBatch } from '../../drivers/can/frame-batch.js';
import { CandumpParser } from '../../drivers/replay/candump-parser.js';
import { corpusFile } from '../helpers/corpus.js';
import { type PriorityLevel } from '../../wire/priority.js';
import { decodedIngester } from '../helpers/ingest-decoded.js';

const TARGET_SAMPLES = 4_000_000;
const BATCH = 4096;

/** Catalog names s0..s15 play these roles in the rules below. */
const SIGNALS = Array.from({ length: 16 }, (_, i) => `s${i}`);
const STATES: StatesConfig = { ignition: 's0 > 0.5', driving: 'ignition and s1 > 3', parked: 'not ignition' };
const RULES: unknown[] = [
  {
    name: 'dynamics',
    type: 'regular',
    when: 'driving',
    period: '1s',
    signals: ['s1', { signal: 's1', sample: 'max' }, { signal: 's2', sample: 'min' }, { signal: 's2', sample: 'max' }, { signal: 's3', sample: 'avg' }, { signal: 's4', sample: 'avg' }, 's5', 's6'],
  },
  { name: 'powertrain', type: 'regular', period: '10s', signals: [{ signal: 's7', sample: 'max' }, { signal: 's8', sample: 'max' }, 's9', 's10'] },
  { name: 'parked', type: 'regular', when: 'parked', period: '60s', signals: ['s11', 's12'] },
  { name: 'harsh_braking', type: 'event', when: 'rising(s2 < -4)', min_interval: '10s', pre: '10s', post: '5s', capture: ['s1', 's2', 's3'], priority: 'high' },
  { name: 'overspeed', type: 'event', when: 'rising(avg(s1, "2s") > 130)', min_interval: '1m' },
  { name: 'temp_step', type: 'event', when: 'changed(s7, 5)' },
  { name: 'door_moving', type: 'event', when: 'rising(s13 > 0.5 and s1 > 5)' },
  { name: 'rpm_high', type: 'event', when: 'driving and s3 * 2 > 9000', min_interval: '30s' },
  { name: 'mil', type: 'event', when: 'rising(s14 == 1)', priority: 'high', immediate: true },
];

class CountingOutput implements RuleOutput {
  samples = 0;
  events = 0;
  sample(_rule: string, _stream: string, _priority: PriorityLevel, _signal: number, _timeUs: number, _value: number): void {
    this.samples++;
  }
  event(_trigger: EventTrigger): void {
    this.events++;
  }
}

function engineFor(signals: string[], output: RuleOutput): RulesEngine {
  const document = readRulesDocument({ rules: RULES }, signals);
  return new RulesEngine({ signals, profile: { model_year: 2021 }, states: STATES, rules: document.rules as RuleConfig[], output });
}

/** Synthetic drive: values move at every sample, with the occasional braking, door and MIL blips. */
function syntheticBatches(): SampleBatch[] {
  const batches: SampleBatch[] = [];
  let timeUs = 1_700_000_000_000_000;
  let n = 0;
  while (n < TARGET_SAMPLES) {
    const batch = createSampleBatch(BATCH);
    for (let k = 0; k < BATCH; k++, n++) {
      if (k % 4 === 0) timeUs += 250;
      const s = n % 16;
      const t = timeUs / 1e6;
      let v: number;
      switch (s) {
        case 0: v = Math.floor(t / 600) % 5 === 4 ? 0 : 1; break; // ignition off one period in five
        case 1: v = 70 + 65 * Math.sin(t / 40) + (n % 7) * 0.01; break;
        case 2: v = -5 * Math.sin(t / 3) + (n % 5) * 0.01; break;
        case 3: v = 2500 + 2000 * Math.sin(t / 20); break;
        case 13: v = Math.floor(t / 30) % 20 === 0 ? 1 : 0; break;
        case 14: v = Math.floor(t / 90) % 10 === 0 ? 1 : 0; break;
        default: v = 50 + 40 * Math.sin(t / (s + 1)) + (n % 3) * 0.1;
      }
      batch.signal[k] = s;
      batch.value[k] = v;
      batch.timeUs[k] = timeUs;
    }
    batch.count = BATCH;
    batches.push(batch);
  }
  return batches;
}

/** Kona samples decoded once, then repeated with times shifted by the log's length. */
function konaBatches(): { batches: SampleBatch[]; map: SignalMap } {
  const db = loadDbcFile(corpusFile('dbc/opendbc/hyundai_can.dbc')).db;
  const decoder = new Decoder([{ bus: '*', databases: [db] }]);
  const once: SampleBatch[] = [];
  const parser = new CandumpParser(createFrameBatch(1024), (frames) => {
    const samples = createSampleBatch(BATCH * 4);
    decoder.decode(frames, samples);
    once.push(samples);
  });
  parser.push(readFileSync(corpusFile('logs/eldominio/kona/turnonlog.log')));
  parser.end();
  const first = once[0].timeUs[0];
  const last = once[once.length - 1];
  const spanUs = last.timeUs[last.count - 1] - first + 10_000;
  const perCopy = once.reduce((sum, b) => sum + b.count, 0);
  const batches: SampleBatch[] = [];
  for (let c = 0; c * perCopy < TARGET_SAMPLES; c++) {
    for (const b of once) {
      const copy = createSampleBatch(b.count);
      copy.count = b.count;
      copy.signal.set(b.signal.subarray(0, b.count));
      copy.value.set(b.value.subarray(0, b.count));
      for (let k = 0; k < b.count; k++) copy.timeUs[k] = b.timeUs[k] + c * spanUs;
      batches.push(copy);
    }
  }
  const sources: [string, string][] = [
    ['EMS16', 'ENG_STAT'], ['CLU11', 'CF_Clu_Vanz'], ['ESP12', 'LONG_ACCEL'], ['EMS_366', 'N'],
    ['ESP12', 'LAT_ACCEL'], ['SAS11', 'SAS_Angle'], ['ESP12', 'YAW_RATE'], ['EMS12', 'TEMP_ENG'],
    ['YRS12', 'YRS_Temp'], ['WHL_SPD11', 'WHL_SPD_FL'], ['WHL_SPD11', 'WHL_SPD_FR'], ['WHL_SPD11', 'WHL_SPD_RL'],
    ['WHL_SPD11', 'WHL_SPD_RR'], ['LVR12', 'CF_Lvr_Gear'], ['EMS12', 'CONF_MIL_FMY'], ['MDPS12', 'CR_Mdps_StrColTq'],
  ];
  const catalog: SignalCatalogEntry[] = sources.map(([message, signal], i) => ({ name: `s${i}`, source: { message, signal }, unit: '', scale: 1, offset: 0 }));
  const map = buildSignalMap(catalog, (name) => SIGNALS.indexOf(name), decoderSignalRefs(decoder.signals));
  if (map.unmatched.length > 0) throw new Error(`bench catalog: ${map.unmatched.map((e) => e.source.signal).join(', ')} not in the DBC`);
  return { batches, map };
}

function identityMap(count: number): SignalMap {
  return buildSignalMap(
    SIGNALS.slice(0, count).map((name) => ({ name, source: { message: 'M', signal: name }, unit: '', scale: 1, offset: 0 })),
    (name) => SIGNALS.indexOf(name),
    SIGNALS.slice(0, count).map((name) => ({ message: 'M', signal: name })),
  );
}

function measure(label: string, batches: SampleBatch[], map: SignalMap, print = true): void {
  const output = new CountingOutput();
  const engine = engineFor(SIGNALS, output);
  let gcs = 0;
  const observer = new PerformanceObserver((list) => (gcs += list.getEntries().length));
  observer.observe({ entryTypes: ['gc'] });
  const start = process.hrtime.bigint();
  const ingest = decodedIngester(engine, map);
  for (const batch of batches) ingest(batch);
  engine.finish();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  observer.disconnect();
  const total = batches.reduce((sum, b) => sum + b.count, 0);
  const mapped = engine.stats.samples;
  if (!print) return;
  console.log(`rules ${label}: ${(total / ms / 1000).toFixed(2)} M samples/s in (${total} samples, ${mapped} mapped, ${ms.toFixed(0)} ms, ${((ms * 1e6) / total).toFixed(0)} ns/sample)`);
  console.log(`rules ${label}: ${engine.stats.evaluations} condition evaluations, ${output.samples} regular samples out, ${output.events} events out, ${gcs} GC runs`);
}

export async function run(): Promise<void> {
  const synthetic = syntheticBatches();
  const map = identityMap(16);
  measure('warm-up', synthetic.slice(0, 100), map, false);
  measure('synthetic', synthetic, map);
  const kona = konaBatches();
  measure('kona', kona.batches, kona.map);
}
