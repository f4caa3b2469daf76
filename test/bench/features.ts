/**
 * Vehicle features at the edge: FeatureSet.onSamples throughput on the synthetic drive (20 signals,
 * 208k samples per 22-minute drive, replayed 10 times with shifted times in 1024-sample batches),
 * with the GC runs during the timed loop (per-sample allocation would show there), and NMEA parsing
 * throughput of the GNSS driver's reader on the same drive written as NMEA.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { buildFeatures, type FeatureEvent } from '../../agent/rules/features/index.js';
import { SignalHistory } from '../../agent/rules/signal-history.js';
import { NmeaReader } from '../../drivers/gnss/nmea-reader.js';
import { driveFeatures, driveMonitors } from '../features/drive-harness.js';
import { writeNmea } from '../helpers/nmea-route.js';
import { syntheticDrive } from '../helpers/synthetic-drive.js';
import { PositionSource } from '../../agent/rules/features/feature.js';

const PASSES = 10;
const BATCH = 1024;

export async function run(): Promise<void> {
  const drive = syntheticDrive();
  const spanUs = drive.timesUs[drive.count - 1] - drive.timesUs[0] + 60e6;
  const times = new Float64Array(BATCH);
  const best = { ms: Infinity, events: 0 };
  let gcRuns = 0;
  const observer = new PerformanceObserver((list) => {
    gcRuns += list.getEntries().length;
  });
  for (let round = 0; round < 3; round++) {
    const events: FeatureEvent[] = [];
    const history = new SignalHistory(drive.names.length);
    const features = buildFeatures(
      { signalId: drive.idOf, signalName: (id) => drive.names[id], history, positionSource: PositionSource.GNSS, emit: (e) => events.push(e) },
      driveFeatures(),
      driveMonitors(),
    );
    if (round === 1) observer.observe({ entryTypes: ['gc'] });
    const start = performance.now();
    for (let pass = 0; pass < PASSES; pass++) {
      for (let i = 0; i < drive.count; i += BATCH) {
        const n = Math.min(BATCH, drive.count - i);
        for (let k = 0; k < n; k++) times[k] = drive.timesUs[i + k] + pass * spanUs;
        features.onSamples(drive.ids.subarray(i, i + n), times, drive.values.subarray(i, i + n), n);
        features.tick(times[n - 1]);
      }
    }
    const ms = performance.now() - start;
    if (ms < best.ms) Object.assign(best, { ms, events: events.length });
  }
  observer.disconnect();
  const samples = drive.count * PASSES;
  console.log(`input: synthetic drive (${drive.names.length} signals, ${drive.count} samples) x${PASSES} = ${samples} samples in batches of ${BATCH}`);
  console.log(`features time (best of 3, history not recorded): ${best.ms.toFixed(0)} ms`);
  console.log(`samples/s: ${Math.round(samples / (best.ms / 1000)).toLocaleString('en-US')}`);
  console.log(`ns/sample: ${((best.ms * 1e6) / samples).toFixed(1)}`);
  console.log(`records emitted per pass: ${best.events / PASSES}`);
  console.log(`GC runs during the 2 later timed rounds (${2 * samples} samples): ${gcRuns}`);

  const nmea = writeNmea(drive.track).text;
  const lines = nmea.split('\n').length - 1;
  let bestNmea = Infinity;
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    let fixes = 0;
    const reader = new NmeaReader('bench', () => fixes++);
    reader.push(nmea);
    reader.end();
    bestNmea = Math.min(bestNmea, performance.now() - start);
    if (fixes !== drive.track.length) throw new Error(`NMEA bench: ${fixes} fixes, expected ${drive.track.length}`);
  }
  console.log(`NMEA: ${lines} lines (${(nmea.length / 1024).toFixed(0)} KiB, ${drive.track.length} epochs) in ${bestNmea.toFixed(1)} ms`);
  console.log(`NMEA lines/s: ${Math.round(lines / (bestNmea / 1000)).toLocaleString('en-US')}`);
}
