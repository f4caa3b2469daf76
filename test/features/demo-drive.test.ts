/**
 * The demo configuration on the demo drive, the way the agent runs them: candump log → real decoder →
 * catalog mapping → rules engine (which records the history) → features, ticked once per second of
 * log time. The ignition is written once (states.ignition): the engine's ignition_on/off events and
 * the trip boundaries must come from the same frames.
 *
 * Expected times are read from the log's bytes with plain bit extraction, and expected distances and
 * fuel from the drive script (apps/demo/drive-profile.ts), not from the code under test.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { vehicleSignalNames, type Config } from '../../agent/config/config.js';
import { loadAgentConfig } from '../../agent/runtime/agent-config.js';
import { loadDbcFile } from '../../agent/decode/dbc-loader.js';
import { Decoder } from '../../agent/decode/decoder.js';
import { createSampleBatch } from '../../agent/decode/sample-batch.js';
import { driveProfile, DEMO_HOME } from '../../apps/demo/drive-profile.js';
import { DistanceSource } from '../../agent/rules/features/feature.js';
import { distanceM } from '../../agent/rules/features/geo.js';
import { buildFeatures, positionSourceFor, type FeatureEvent } from '../../agent/rules/features/index.js';
import { rulesEngineFor, signalMapFor } from '../../agent/rules/engine-from-config.js';
import { mapSamples } from '../../agent/rules/signal-map.js';
import { createFrameBatch } from '../../drivers/can/frame-batch.js';
import { CandumpParser } from '../../drivers/replay/candump-parser.js';
import { demoFolder } from '../helpers/demo-config.js';
import { RuleOutputCollector } from '../helpers/rule-output-collector.js';

const S = 1_000_000;

interface Run {
  config: Config;
  out: RuleOutputCollector;
  events: FeatureEvent[];
  of<K extends FeatureEvent['kind']>(kind: K): Extract<FeatureEvent, { kind: K }>[];
}

/** Replays the demo log through the engine and the features of `config`. */
function run(config: Config): Run {
  const out = new RuleOutputCollector();
  const engine = rulesEngineFor(config, out);
  const names = vehicleSignalNames(config);
  const decoder = new Decoder(config.buses.map((bus) => ({ bus: bus.name, databases: bus.dbc.map((file) => loadDbcFile(file).db) })));
  const map = signalMapFor(config, engine, decoder.signals);
  const events: FeatureEvent[] = [];
  const features = buildFeatures(
    {
      signalId: (name) => engine.signalId(name) ?? -1,
      signalName: (id) => names[id],
      history: engine.history,
      positionSource: positionSourceFor(new Set(config.signals.map((s) => s.name))),
      emit: (event) => events.push(event),
    },
    config.features,
    config.monitors,
  );
  const decoded = createSampleBatch();
  const vehicle = createSampleBatch();
  let lastUs = 0;
  const bus = config.buses[0];
  if (bus.driver !== 'replay') throw new Error('the demo replays a log');
  const parser = new CandumpParser(
    createFrameBatch(512),
    (batch) => {
      decoded.count = 0;
      decoder.decode(batch, decoded);
      vehicle.count = 0;
      mapSamples(decoded, map, vehicle);
      engine.ingestSamples(vehicle.signal, vehicle.timeUs, vehicle.value, vehicle.count);
      features.onSamples(vehicle.signal, vehicle.timeUs, vehicle.value, vehicle.count);
      lastUs = vehicle.timeUs[vehicle.count - 1];
      features.tick(lastUs);
    },
    { maxSpanUs: S },
  );
  parser.push(readFileSync(bus.log));
  parser.end();
  // The bus went quiet; the agent keeps ticking.
  for (let k = 1; k <= 90; k++) {
    engine.advanceTo(lastUs + k * S);
    features.tick(lastUs + k * S);
  }
  engine.finish();
  return { config, out, events, of: (kind) => events.filter((e) => e.kind === kind) as never };
}

/** Times of the IGNITION_STATUS frames (0x120) where IgnitionState (bits 0..1) crosses ON (>= 2) and back. */
function ignitionEdgesFromLog(logText: string): { onUs: number; offUs: number; startUs: number } {
  const frames = [...logText.matchAll(/^\((\d+)\.(\d{6})\) \S+ 120#([0-9A-F]{4})$/gm)].map((m) => ({
    timeUs: Number(m[1]) * S + Number(m[2]),
    state: parseInt(m[3].slice(0, 2), 16) & 3,
  }));
  const on = frames.findIndex((f) => f.state >= 2);
  const off = frames.findIndex((f, i) => i > on && f.state < 2);
  const first = /^\((\d+)\.(\d{6})\)/.exec(logText)!;
  return { onUs: frames[on].timeUs, offUs: frames[off].timeUs, startUs: Number(first[1]) * S + Number(first[2]) };
}

/** Odometer and fuel used by the script between two times (s since the start). */
function scriptTruth(fromS: number, toS: number) {
  let odoFrom = NaN, odoTo = NaN, fuelFrom = NaN, fuelTo = NaN, maxSpeed = 0;
  for (const s of driveProfile()) {
    const t = s.timeMs / 1000;
    if (t <= fromS) [odoFrom, fuelFrom] = [s.odometerKm, s.fuelUsedL];
    if (t <= toS) [odoTo, fuelTo] = [s.odometerKm, s.fuelUsedL];
    if (t >= fromS && t <= toS) maxSpeed = Math.max(maxSpeed, s.speedKmh);
  }
  return { distanceKm: odoTo - odoFrom, fuelL: fuelTo - fuelFrom, maxSpeedKmh: maxSpeed };
}

/** First time (s) the script's position goes beyond (`out`) or back within (`in`) `radiusM` of home. */
function scriptCrossing(radiusM: number, way: 'out' | 'in'): number {
  let outside = false;
  for (const s of driveProfile()) {
    const beyond = distanceM(s.lat, s.lon, DEMO_HOME.lat, DEMO_HOME.lon) > radiusM;
    if (way === 'out' && beyond) return s.timeMs / 1000;
    if (way === 'in' && outside && !beyond) return s.timeMs / 1000;
    outside ||= beyond;
  }
  throw new Error(`the script never crosses ${radiusM} m ${way}`);
}

describe('demo configuration on the demo drive', () => {
  const demo = demoFolder();
  const logText = readFileSync(demo.log, 'utf8');
  const edges = ignitionEdgesFromLog(logText);
  const at = (s: number) => edges.startUs + s * S;
  const r = run(loadAgentConfig(demo.config));

  it('the engine reports ignition on and off at the IGNITION_STATUS frames where the state crosses ON', () => {
    expect(r.out.eventsOf('ignition_on').map((e) => e.timeUs)).toEqual([edges.onUs]);
    expect(r.out.eventsOf('ignition_off').map((e) => e.timeUs)).toEqual([edges.offUs]);
    // The script: ignition from 15 s to 650 s.
    expect(edges.onUs).toBeGreaterThanOrEqual(at(15));
    expect(edges.offUs).toBeLessThan(at(650.5));
  });

  it('one trip, from the same ignition_on to the same ignition_off, measured by odometer and fuel counter', () => {
    const trips = r.of('trip');
    expect(trips).toHaveLength(1);
    const trip = trips[0].trip;
    expect(trip.departureMs).toBe(Math.round(edges.onUs / 1000));
    expect(trip.arrivalMs).toBe(Math.round(edges.offUs / 1000));
    const truth = scriptTruth((edges.onUs - edges.startUs) / S, (edges.offUs - edges.startUs) / S);
    expect(trip.distanceSource).toBe(DistanceSource.ODOMETER);
    // Odometer frames every second in 0.1 km steps; the fuel counter in 0.01 l steps.
    expect(Math.abs(trip.distanceKm! - truth.distanceKm)).toBeLessThan(0.15);
    expect(Math.abs(trip.fuelUsedL! - truth.fuelL)).toBeLessThan(0.02);
    expect(trip.maxSpeedKmh).toBeCloseTo(truth.maxSpeedKmh, 1);
    expect(distanceM(trip.departure!.lat!, trip.departure!.lon!, DEMO_HOME.lat, DEMO_HOME.lon)).toBeLessThan(1);
  });

  it('a different states.ignition moves both the engine events and the trip, together', () => {
    // "Ignition" while the speed averaged over 30 s is above 1 km/h: a window expression in a state.
    const variant = demoFolder((yaml) => yaml.replace('ignition: "Roadlink.IgnitionState >= 2"', 'ignition: \'avg(Vehicle.Speed, "30s") > 1\''));
    const v = run(loadAgentConfig(variant.config));
    const on = v.out.eventsOf('ignition_on').map((e) => e.timeUs);
    const off = v.out.eventsOf('ignition_off').map((e) => e.timeUs);
    // One cycle: from a few seconds after the car first moves to some 30 s after the collision stopped it.
    expect(on).toHaveLength(1);
    expect(off).toHaveLength(1);
    expect(on[0]).toBeGreaterThan(edges.onUs);
    expect(off[0]).toBeGreaterThan(at(621));
    expect(off[0]).toBeLessThan(at(660));
    const trips = v.of('trip').map((e) => e.trip);
    expect(trips.map((t) => t.departureMs)).toEqual(on.map((us) => Math.round(us / 1000)));
    expect(trips.map((t) => t.arrivalMs)).toEqual(off.map((us) => Math.round(us / 1000)));
  });

  it('the collision at 620 s, the tyre-pressure alert, the door at 560 s, leaving home', () => {
    const collisions = r.of('collision');
    expect(collisions.length).toBe(2); // the record at the trigger, then the one with the post window
    expect(collisions[0].timeUs).toBeGreaterThanOrEqual(at(620));
    expect(collisions[0].timeUs).toBeLessThan(at(620.3));
    expect(collisions[0].collision.preWindow!.signals.length).toBe(5);

    const tyre = r.of('alert').filter((e) => e.alert.code === 'tyre_pressure');
    expect(tyre.map((e) => e.alert.active)).toEqual([true, false]);
    expect(tyre[0].timeUs).toBeGreaterThanOrEqual(at(300));
    expect(tyre[0].timeUs).toBeLessThan(at(303));
    expect(tyre[1].timeUs).toBeGreaterThanOrEqual(at(380));
    expect(tyre[1].timeUs).toBeLessThan(at(386));

    const door = r.of('status').find((e) => e.reasons.includes('door') && e.timeUs >= at(560));
    expect(door!.timeUs).toBeLessThan(at(571));
    expect(door!.status.doors).toContainEqual({ name: 'Row1.PassengerSide', open: true, locked: false });
    expect(r.out.eventsOf('door_open_while_driving').map((e) => e.timeUs).every((t) => t > at(560) && t < at(566))).toBe(true);
    expect(r.out.eventsOf('door_open_while_driving')).toHaveLength(1);

    // The highway loop takes the car just outside the 2 km circle (2.17 km at most) and back.
    const fences = r.of('geofence').map((e) => ({ timeUs: e.timeUs, ...e.geofence }));
    expect(fences.map((g) => [g.monitorId, g.entered])).toEqual([['home', false], ['home', true]]);
    const [exit, enter] = fences;
    // Each is dated at the first position fix (1 s apart) beyond the 25 m margin, reported after the 5 s dwell.
    expect(exit.timeUs).toBeGreaterThanOrEqual(at(scriptCrossing(2025, 'out')));
    expect(exit.timeUs).toBeLessThan(at(scriptCrossing(2025, 'out') + 1.1));
    expect(distanceM(exit.position!.lat!, exit.position!.lon!, DEMO_HOME.lat, DEMO_HOME.lon)).toBeGreaterThan(2025);
    expect(enter.timeUs).toBeGreaterThanOrEqual(at(scriptCrossing(1975, 'in')));
    expect(enter.timeUs).toBeLessThan(at(scriptCrossing(1975, 'in') + 1.1));
  });
});
