/**
 * Pipeline benchmark (issue "Refresh rules and store-and-forward"): the agent's own frame path,
 * decode → catalog mapping → rules engine + features → SQLite store, on one core, no uplink.
 *
 * Input: the real Kona log (shared corpus, hyundai_can.dbc), parsed once into FrameBatches in memory
 * and fed again and again, its times shifted by the log's length each pass, to at least TARGET_FRAMES
 * frames. The frames go through Agent's frame sink (test/helpers/bench-feed-driver.ts plugs in
 * through AgentOptions.canDrivers), one batch per event-loop turn as a driver delivers them, so the
 * store's commit timer and the agent's tick run as they would.
 *
 * Configuration (built below): a catalog of 34 Kona signals; the rule `record_100hz` samples 30 of
 * them, all from 100 Hz messages, every 10 ms with `last` (so about every sample of those signals is
 * stored); a 1 s min/max/avg rule while the engine runs; 5 event rules (edges, a changed() with
 * deadband, a 2 s window average, pre/post captures); the vehicle features with their defaults.
 *
 * "Stored sample": one (signal, time, value) a rule appended to the store (store stats storedSamples
 * after the final commit); event records (with their captured windows) are counted apart.
 * Disk writes: /proc/self/io write_bytes of a child process, from before the agent opens the store to
 * after it closed it (WAL, checkpoints and main file). Peak RSS: the child's maxRSS, the input frames
 * (a few MB) included.
 *
 * Run: npx tsc -p . && node dist/test/bench/run.js pipeline
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAgentConfig } from '../../agent/runtime/agent-config.js';
import { Agent } from '../../agent/runtime/agent.js';
import { feedDrivers, type FeedDriver } from '../helpers/bench-feed-driver.js';
import { logBatches } from '../helpers/bench-frames.js';
import { filesystemOf, procIo, runJsonChild } from '../helpers/bench-process.js';
import { corpusFile } from '../helpers/corpus.js';

const TARGET_FRAMES = 1_000_000;
/** 1024: what the replay driver hands over at full speed; 32: a busy live bus read every few ms. */
const BATCH_SIZES = [1024, 32];

/** Recorded at every 10 ms: 30 signals of the Kona's 100 Hz messages (VSS names where the rules use them). */
const RECORDED = [
  'ESP12.LAT_ACCEL', 'ESP12.LONG_ACCEL', 'ESP12.YAW_RATE', 'ESP12.CYL_PRES',
  'EMS_366.TQI_1', 'EMS_366.N', 'EMS_366.VS',
  'EMS12.TEMP_ENG', 'EMS12.TPS', 'EMS12.PV_AV_CAN', 'EMS12.BRAKE_ACT',
  'SAS11.SAS_Angle', 'SAS11.SAS_Speed',
  'EMS16.TQI', 'EMS16.TQI_TARGET', 'EMS16.ENG_STAT',
  'MDPS12.CR_Mdps_StrColTq', 'MDPS12.CR_Mdps_StrTq', 'MDPS12.CR_Mdps_OutTq',
  'VSM11.CR_Esc_StrTqReq', 'TCU_DCT13.Cluster_Engine_RPM', 'TCU_DCT13.Clutch_Driving_Tq',
  'TCS11.TQI_TCS', 'TCS11.TQI_MSR', 'YRS11.CR_Yrs_Yr', 'YRS11.CR_Yrs_LatAc',
  'YRS12.CR_Yrs_LongAc', 'YRS12.YRS_Temp', 'LVR12.CF_Lvr_Gear', 'LVR11.CF_Lvr_GearInf',
];
/** In the catalog for states, rules and features only. */
const OTHERS = ['CLU11.CF_Clu_Vanz', 'CGW1.CF_Gway_IGNSw', 'WHL_SPD11.WHL_SPD_FL', 'WHL_SPD11.WHL_SPD_FR'];
const VSS: Record<string, string> = {
  'ESP12.LAT_ACCEL': 'Vehicle.Acceleration.Lateral',
  'ESP12.LONG_ACCEL': 'Vehicle.Acceleration.Longitudinal',
  'ESP12.YAW_RATE': 'Vehicle.AngularVelocity.Yaw',
  'EMS_366.N': 'Vehicle.Powertrain.CombustionEngine.Speed',
  'EMS12.TEMP_ENG': 'Vehicle.Powertrain.CombustionEngine.ECT',
  'SAS11.SAS_Angle': 'Vehicle.Chassis.SteeringWheel.Angle',
  'CLU11.CF_Clu_Vanz': 'Vehicle.Speed',
};
const nameOf = (source: string) => VSS[source] ?? `Kona.${source}`;

function configYaml(dir: string, dbc: string, log: string): string {
  const list = (items: string[]) => items.map((s) => `      - ${s}`).join('\n');
  return `
vehicle: { vin: KMHK381GFKU000001, brand: Hyundai, model: Kona, fuel_type: petrol, model_year: 2020 }
log_level: warn
buses:
  - { name: can0, driver: replay, log: ${JSON.stringify(log)}, dbc: [${JSON.stringify(dbc)}] }
signals:
${[...RECORDED, ...OTHERS].map((s) => `  ${nameOf(s)}: ${s}`).join('\n')}
states:
  ignition: "Kona.CGW1.CF_Gway_IGNSw >= 3"
  running: "ignition and Vehicle.Powertrain.CombustionEngine.Speed > 400"
rules:
  - name: record_100hz
    type: regular
    period: 10ms
    signals:
${list(RECORDED.map(nameOf))}
  - name: engine_1s
    type: regular
    when: running
    period: 1s
    signals:
      - { signal: Vehicle.Powertrain.CombustionEngine.Speed, sample: max }
      - { signal: Vehicle.Powertrain.CombustionEngine.Speed, sample: avg }
      - { signal: Kona.EMS16.TQI, sample: max }
      - Vehicle.Speed
  - name: engine_start
    type: event
    when: rising(running)
    pre: 2s
    post: 1s
    capture: [Vehicle.Powertrain.CombustionEngine.Speed, Kona.EMS16.TQI]
    priority: high
  - name: steering_sweep
    type: event
    when: "rising(abs(Vehicle.Chassis.SteeringWheel.Angle) > 20)"
    min_interval: 2s
  - name: hard_braking
    type: event
    when: "rising(Vehicle.Acceleration.Longitudinal < -3.4)"
    min_interval: 10s
    pre: 10s
    post: 5s
    capture: [Vehicle.Speed, Vehicle.Acceleration.Longitudinal, Vehicle.Acceleration.Lateral]
  - name: yrs_temp_step
    type: event
    when: "changed(Kona.YRS12.YRS_Temp, 1.5)"
  - name: idle_high
    type: event
    when: 'rising(avg(Vehicle.Powertrain.CombustionEngine.Speed, "2s") > 1200)'
    min_interval: 30s
storage: { path: ${JSON.stringify(join(dir, 'pipeline.db'))}, quota: 1GB }
`;
}

// --- one measurement (child process) -------------------------------------------------------------

interface Result {
  batchSize: number;
  frames: number;
  passes: number;
  seconds: number;
  cpuSeconds: number;
  decodedSamples: number;
  vehicleSamples: number;
  storedSamples: number;
  storedRecords: number;
  commits: number;
  pipelineErrors: number;
  writeBytes: number;
  wchar: number;
  fileBytes: number;
  inputRssMiB: number;
  peakRssMiB: number;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function measure(batchSize: number, dir: string): Promise<Result> {
  const log = corpusFile('logs/eldominio/kona/turnonlog.log');
  const dbc = corpusFile('dbc/opendbc/hyundai_can.dbc');
  const input = logBatches(log, batchSize);
  // Each pass starts one mean frame gap after the previous one ends.
  const passUs = input.spanUs + Math.round(input.spanUs / input.frames);
  const passes = Math.ceil(TARGET_FRAMES / input.frames);
  const inputRssMiB = process.memoryUsage().rss / 1048576;
  const config = parseAgentConfig(configYaml(dir, dbc, log), { baseDir: dir });

  let feed!: FeedDriver;
  const io0 = procIo();
  const agent = await Agent.start(config, {
    replayTimestamps: 'log',
    canDrivers: feedDrivers((f) => (feed = f)),
    log: (level, message) => level === 'error' && process.stderr.write(`pipeline bench agent: ${message}\n`),
  });
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let pass = 0; pass < passes; pass++) {
    for (const batch of input.batches) {
      if (pass > 0) for (let i = 0; i < batch.count; i++) batch.timeUs[i] += passUs;
      feed.feed(batch);
      await turn();
    }
  }
  await agent.drained(); // no uplink: completes open windows and commits
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const stats = agent.stats();
  await agent.stop();
  const io1 = procIo();
  return {
    batchSize,
    frames: stats.frames,
    passes,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    decodedSamples: stats.decodedSamples,
    vehicleSamples: stats.vehicleSamples,
    storedSamples: stats.store.storedSamples,
    storedRecords: stats.store.storedRecords,
    commits: stats.store.commits,
    pipelineErrors: stats.pipelineErrors,
    writeBytes: io1.writeBytes - io0.writeBytes,
    wchar: io1.wchar - io0.wchar,
    fileBytes: stats.store.fileBytes,
    inputRssMiB,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

// --- driver --------------------------------------------------------------------------------------

export async function run(): Promise<void> {
  const fs = filesystemOf(tmpdir());
  console.log(`pipeline: Kona log (hyundai_can.dbc) fed through the agent's frame path to ${TARGET_FRAMES.toLocaleString('en')}+ frames, store in ${tmpdir()} (${fs})`);
  if (fs === 'tmpfs') console.log('pipeline: WARNING tmpdir is tmpfs, write_bytes will read 0; set TMPDIR to a disk folder');
  for (const size of BATCH_SIZES) {
    const r = await runJsonChild<Result>(fileURLToPath(import.meta.url), ['--batch', String(size)]);
    const rate = (n: number, s: number) => `${Math.round(n / s).toLocaleString('en')}`;
    const label = `pipeline [${size}-frame batches]`;
    const per = (n: number) => `${rate(n, r.seconds)}/s wall clock, ${rate(n, r.cpuSeconds)} per CPU second`;
    console.log(`${label} frames: ${r.frames.toLocaleString('en')} (${r.passes} passes of the log), ${per(r.frames)}`);
    console.log(`${label} decoded samples: ${r.decodedSamples.toLocaleString('en')}, ${per(r.decodedSamples)}`);
    console.log(`${label} vehicle samples (catalog-mapped): ${r.vehicleSamples.toLocaleString('en')}, ${per(r.vehicleSamples)}`);
    console.log(`${label} stored samples (appended by rules, committed): ${r.storedSamples.toLocaleString('en')}, ${per(r.storedSamples)}; ${r.storedRecords} event records, ${r.commits} commits`);
    console.log(`${label} disk write_bytes: ${(r.writeBytes / r.storedSamples).toFixed(2)} bytes per stored sample (write() calls: ${(r.wchar / r.storedSamples).toFixed(2)}), file ${(r.fileBytes / 1048576).toFixed(1)} MiB`);
    console.log(`${label} peak RSS: ${r.peakRssMiB.toFixed(1)} MiB (${r.inputRssMiB.toFixed(1)} MiB with the input parsed, before the agent started); pipeline errors: ${r.pipelineErrors}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--batch') {
  const dir = mkdtempSync(join(tmpdir(), 'roadlink-bench-pipeline-'));
  try {
    process.stdout.write(JSON.stringify(await measure(Number(process.argv[3]), dir)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
