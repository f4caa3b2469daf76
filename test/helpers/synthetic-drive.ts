/**
 * A synthetic drive as vehicle-signal time series (VSS names, physical values — not CAN frames), with
 * its ground truth, for the edge-feature tests.
 *
 * Script (route in metres from the depot centre; the depot is a 300 m circle geofence):
 *   parked and locked → unlocked, driver door opened and closed → ignition ACC, START, ON →
 *   stop at the depot gate 1.5 m inside the depot border (GNSS jitter crosses the border) →
 *   city legs with stops → stop 1.5 m before the south border of "zone-a" (a polygon), then enter it →
 *   highway at ~125 km/h leaving zone-a (engine coolant oscillates around 105 °C for a while; the
 *   distance to service crosses 1000 km) → city legs, the passenger door opens at a stop, a tyre
 *   pressure warning flickers (0.3 s) and later stays on for 2 minutes → a hard braking (0.8 g) →
 *   a collision at ~35 km/h (6.6 g, airbag) → ignition off 30 s later → driver door opened.
 */
import { offsetLatLon, eastM, northM } from '../../agent/rules/features/geo.js';
import { seededRandom } from './seeded-random.js';
import type { TrackPoint } from './nmea-route.js';

export const DRIVE_START_MS = Date.UTC(2024, 2, 18, 7, 30, 0);
export const DEPOT = { lat: 48.7731, lon: 2.2069 };
export const DEPOT_RADIUS_M = 300;
export const TANK_L = 50;

export const SIGNALS = {
  speed: 'Vehicle.Speed',
  odometer: 'Vehicle.TraveledDistance',
  lat: 'Vehicle.CurrentLocation.Latitude',
  lon: 'Vehicle.CurrentLocation.Longitude',
  alt: 'Vehicle.CurrentLocation.Altitude',
  heading: 'Vehicle.CurrentLocation.Heading',
  fuelLevel: 'Vehicle.Powertrain.FuelSystem.RelativeLevel',
  fuelUsed: 'Vehicle.Powertrain.FuelSystem.AccumulatedConsumption',
  range: 'Vehicle.Powertrain.Range',
  ignition: 'Vehicle.LowVoltageSystemState',
  accelLong: 'Vehicle.Acceleration.Longitudinal',
  accelLat: 'Vehicle.Acceleration.Lateral',
  airbag: 'Vehicle.Cabin.Seat.Row1.DriverSide.Airbag.IsDeployed',
  driverOpen: 'Vehicle.Cabin.Door.Row1.DriverSide.IsOpen',
  driverLocked: 'Vehicle.Cabin.Door.Row1.DriverSide.IsLocked',
  passengerOpen: 'Vehicle.Cabin.Door.Row1.PassengerSide.IsOpen',
  passengerLocked: 'Vehicle.Cabin.Door.Row1.PassengerSide.IsLocked',
  tyreLow: 'Vehicle.Chassis.Axle.Row1.Wheel.Left.Tire.IsPressureLow',
  coolant: 'Vehicle.Powertrain.CombustionEngine.ECT',
  distanceToService: 'Vehicle.Service.DistanceToService',
} as const;

/** Ignition values as the drive encodes them (like VSS LowVoltageSystemState ordered as numbers). */
export const IGNITION = { OFF: 0, ACC: 1, ON: 2, START: 3 } as const;

/** zone-a: a rectangle from 1000 to 9000 m east and 2500 to 6000 m north of the depot, as [lon, lat] pairs. */
export const ZONE_A: [number, number][] = [
  [1000, 2500], [9000, 2500], [9000, 6000], [1000, 6000],
].map(([e, n]) => {
  const p = offsetLatLon(DEPOT.lat, DEPOT.lon, e, n);
  return [p.lon, p.lat];
});

export interface DriveOptions {
  seed: number;
  /** GNSS noise per axis (m, 1 sigma; clamped to 3 sigma). */
  gnssSigmaM: number;
  /** Include Vehicle.TraveledDistance (the trip then measures distance by odometer). */
  odometer: boolean;
  /** Include the fuel-consumed counter (the trip then measures fuel by it rather than by level). */
  fuelCounter: boolean;
}

interface Leg {
  /** Route distance (m) where the leg ends. */
  to: number;
  kmh: number;
  /** Seconds stopped at the end; absent = drive through. */
  stopS?: number;
  /** Braking deceleration into the stop (m/s²). */
  brake?: number;
  crash?: boolean;
  name?: string;
}

const ROUTE: [number, number][] = [[0, 0], [1200, 0], [1200, 3000], [20000, 3000], [20000, 0]];
const LEGS: Leg[] = [
  { to: DEPOT_RADIUS_M - 1.5, kmh: 25, stopS: 40, name: 'depot-gate' },
  { to: 800, kmh: 50, stopS: 15 },
  { to: 2000, kmh: 50, stopS: 25 },
  { to: 1200 + 2500 - 1.5, kmh: 50, stopS: 40, name: 'zone-border' },
  { to: 4200, kmh: 50 },
  { to: 22_500, kmh: 125 },
  { to: 23_000, kmh: 60, stopS: 20 },
  { to: 23_400, kmh: 50, stopS: 20, name: 'passenger-stop' },
  { to: 23_900, kmh: 50, stopS: 10 },
  { to: 24_500, kmh: 50, stopS: 15, brake: 8, name: 'hard-brake' },
  { to: 24_800, kmh: 35, stopS: 45, crash: true, name: 'collision' },
];

const DT = 0.01;
const ACCEL = 2.2; // m/s²
const COMFORT_DECEL = 2.5; // m/s²
const CRASH_DECEL = 65; // m/s² (6.6 g)
const T_ACC = 15, T_START = 17, T_ON = 18, T_GO = 25;

export interface DriveTruth {
  /** Ignition at START (cranking) or ON, from the key turned to start to the first OFF sample. */
  ignitionOnUs: number;
  ignitionOffUs: number;
  /** Distance driven while the ignition was on (exact integral of the speed). */
  distanceKm: number;
  maxSpeedKmh: number;
  fuelUsedL: number;
  stops: Record<string, { fromUs: number; toUs: number; lat: number; lon: number }>;
  /** Times when the true position crossed the geofence borders. */
  depotExitUs: number;
  zoneEnterUs: number;
  zoneExitUs: number;
  passengerDoorOpenUs: number;
  passengerDoorCloseUs: number;
  hardBrakeStartUs: number;
  collision: { timeUs: number; lat: number; lon: number; speedKmh: number };
  tyreGlitchUs: number;
  tyreWarning: { fromUs: number; toUs: number };
  coolantOscillation: { fromUs: number; toUs: number };
  /** When the distance to service (1 km resolution) first read 1000 km or less. */
  service1000Us: number;
}

export interface SyntheticDrive {
  names: string[];
  idOf(name: string): number;
  /** All samples in time order (struct of arrays, like the decoder's output). */
  ids: Uint32Array;
  timesUs: Float64Array;
  values: Float64Array;
  count: number;
  /** Calls `fn` with consecutive slices of at most `size` samples. */
  forEachBatch(size: number, fn: (ids: Uint32Array, timesUs: Float64Array, values: Float64Array, count: number) => void): void;
  /** The GNSS positions reported (1 Hz, with noise), for writing NMEA. */
  track: TrackPoint[];
  truth: DriveTruth;
}

/** Route position at distance `s` along the polyline: east/north metres and heading. */
function along(s: number): { e: number; n: number; heading: number } {
  let rest = s;
  for (let i = 1; i < ROUTE.length; i++) {
    const [e0, n0] = ROUTE[i - 1];
    const [e1, n1] = ROUTE[i];
    const len = Math.hypot(e1 - e0, n1 - n0);
    const heading = ((Math.atan2(e1 - e0, n1 - n0) * 180) / Math.PI + 360) % 360;
    if (rest <= len || i === ROUTE.length - 1) {
      const f = Math.min(rest, len) / len;
      return { e: e0 + f * (e1 - e0), n: n0 + f * (n1 - n0), heading };
    }
    rest -= len;
  }
  throw new Error('unreachable');
}

interface Physics {
  v: Float64Array; // m/s per step
  s: Float64Array; // route distance per step
  steps: number;
  stops: Record<string, { from: number; to: number; s: number }>;
  crashT: number;
  hardBrakeT: number;
  endT: number;
}

function simulate(): Physics {
  const maxSteps = Math.ceil(2500 / DT);
  const v = new Float64Array(maxSteps);
  const s = new Float64Array(maxSteps);
  const stops: Physics['stops'] = {};
  let leg = 0;
  let vel = 0, dist = 0, stopUntil = -1, crashing = false;
  let crashT = NaN, hardBrakeT = NaN, endT = NaN;
  let k = 0;
  for (; k < maxSteps; k++) {
    const t = k * DT;
    v[k] = vel;
    s[k] = dist;
    if (!Number.isNaN(endT) && t >= endT) break;
    if (t < T_GO || leg >= LEGS.length || t < stopUntil) continue;
    const L = LEGS[leg];
    let next: number;
    if (crashing) {
      next = Math.max(0, vel - CRASH_DECEL * DT);
    } else {
      const vmax = L.kmh / 3.6;
      next = vel < vmax ? Math.min(vmax, vel + ACCEL * DT) : Math.max(vmax, vel - COMFORT_DECEL * DT);
      if (L.stopS !== undefined && !L.crash) {
        const brake = L.brake ?? COMFORT_DECEL;
        const profile = Math.sqrt(2 * brake * Math.max(0, L.to - dist));
        if (L.brake && Number.isNaN(hardBrakeT) && profile < vel) hardBrakeT = t;
        next = Math.min(next, profile);
      }
    }
    dist += ((vel + next) / 2) * DT;
    vel = next;
    if (L.crash && !crashing && dist >= L.to) {
      crashing = true;
      crashT = t + DT;
    }
    // The braking profile reaches exactly 0 within a few millimetres of the stop line.
    const arrived = L.stopS !== undefined && vel === 0 && (crashing || L.to - dist < 0.05);
    if (arrived) {
      stopUntil = t + DT + L.stopS!;
      stops[L.name ?? `leg${leg}`] = { from: t + DT, to: stopUntil, s: dist };
      if (L.crash) endT = t + DT + L.stopS!;
      leg++;
    } else if (L.stopS === undefined && dist >= L.to) {
      leg++;
    }
  }
  return { v, s, steps: k, stops, crashT, hardBrakeT, endT };
}

export function syntheticDrive(options: Partial<DriveOptions> = {}): SyntheticDrive {
  const opt: DriveOptions = { seed: 1, gnssSigmaM: 2.5, odometer: true, fuelCounter: true, ...options };
  const rnd = seededRandom(opt.seed);
  const ph = simulate();
  const names: string[] = Object.values(SIGNALS).filter(
    (n) => (opt.odometer || n !== SIGNALS.odometer) && (opt.fuelCounter || n !== SIGNALS.fuelUsed),
  );
  const idOf = (name: string): number => names.indexOf(name);
  const rows: { t: number; id: number; v: number; seq: number }[] = [];
  const put = (name: string, tS: number, value: number): void => {
    const id = idOf(name);
    if (id >= 0) rows.push({ t: Math.round(DRIVE_START_MS * 1000 + tS * 1e6), id, v: value, seq: rows.length });
  };
  const us = (tS: number): number => Math.round(DRIVE_START_MS * 1000 + tS * 1e6);
  // On the 100 ms grid of the ignition signal, so that the truth is the time of a sample.
  const offT = Math.ceil((ph.crashT + 30) * 10) / 10;
  const ignitionAt = (t: number): number =>
    t < T_ACC || t >= offT ? IGNITION.OFF : t < T_START ? IGNITION.ACC : t < T_ON ? IGNITION.START : IGNITION.ON;
  const passenger = ph.stops['passenger-stop'];
  const tyreGlitch = 200;
  const tyreFrom = Math.ceil((passenger.from - 60) * 10) / 10, tyreTo = tyreFrom + 120; // on the 10 Hz grid
  const coolFrom = 500, coolTo = 620;
  let autoLocked = false;

  // Fuel: idle 0.8 l/h with the engine on, 8 l/100 km below 70 km/h, 6.5 above.
  let fuelUsed = 0;
  let distanceOn = 0;
  let maxKmh = 0;
  const startOdoKm = 23_456.73;
  const startDtsKm = 1012.4;
  let service1000Us = NaN;
  const track: TrackPoint[] = [];
  const truthPos = (k: number): { lat: number; lon: number; heading: number } => {
    const p = along(ph.s[k]);
    return { ...offsetLatLon(DEPOT.lat, DEPOT.lon, p.e, p.n), heading: p.heading };
  };
  for (let k = 0; k < ph.steps; k++) {
    const t = k * DT;
    const vel = ph.v[k];
    const on = ignitionAt(t) >= IGNITION.ON; // ON or START (cranking)
    if (k > 0 && on) {
      const ds = ph.s[k] - ph.s[k - 1];
      distanceOn += ds;
      fuelUsed += (0.8 / 3600) * DT + (ds / 1000) * (vel * 3.6 < 70 ? 0.08 : 0.065);
    }
    if (on) maxKmh = Math.max(maxKmh, vel * 3.6);
    if (vel * 3.6 > 15) autoLocked = true;
    const ms = Math.round(t * 1000);
    const kmh = vel * 3.6;
    if (ms % 100 === 0) {
      put(SIGNALS.speed, t, Math.round(kmh * 100) / 100);
      put(SIGNALS.ignition, t, ignitionAt(t));
      put(SIGNALS.airbag, t, t >= ph.crashT + 0.03 ? 1 : 0);
      const tyre = (t >= tyreGlitch && t < tyreGlitch + 0.3) || (t >= tyreFrom && t < tyreTo) ? 1 : 0;
      put(SIGNALS.tyreLow, t, tyre);
    }
    if (ms % 20 === 0) {
      const prev = ph.v[Math.max(0, k - 2)];
      put(SIGNALS.accelLong, t, Math.round(((vel - prev) / (2 * DT) + rnd.gaussian(0.15)) * 100) / 100);
      put(SIGNALS.accelLat, t, Math.round((kmh > 5 ? 0.4 * Math.sin(t / 7) : 0) * 100 + rnd.gaussian(5)) / 100);
    }
    if (ms % 500 === 0) {
      const locked = t < 4 ? 1 : autoLocked && t < offT + 2 ? 1 : 0;
      put(SIGNALS.driverOpen, t, (t >= 6 && t < 10) || (t >= offT + 3 && t < offT + 10) ? 1 : 0);
      put(SIGNALS.passengerOpen, t, t >= passenger.from + 3 && t < passenger.from + 9 ? 1 : 0);
      put(SIGNALS.driverLocked, t, locked);
      put(SIGNALS.passengerLocked, t, locked);
    }
    if (ms % 1000 === 0) {
      const odo = startOdoKm + ph.s[k] / 1000;
      put(SIGNALS.odometer, t, Math.floor(odo * 10) / 10);
      const dts = Math.floor(startDtsKm - ph.s[k] / 1000);
      put(SIGNALS.distanceToService, t, dts);
      if (dts <= 1000 && Number.isNaN(service1000Us)) service1000Us = us(t);
      const level = 62 - (fuelUsed / TANK_L) * 100;
      put(SIGNALS.fuelLevel, t, Math.round((level + rnd.gaussian(0.3)) * 2) / 2);
      put(SIGNALS.fuelUsed, t, Math.floor(fuelUsed * 100) / 100);
      put(SIGNALS.range, t, Math.round(((level / 100) * TANK_L) / 0.07));
      const cool = t < coolFrom ? Math.min(92, 20 + t * 0.4) : t < coolTo ? 105 + 1.5 * Math.sin((t - coolFrom) * 1.3) : 92;
      put(SIGNALS.coolant, t, Math.round(cool * 10) / 10);
      const p = along(ph.s[k]);
      const noisy = offsetLatLon(DEPOT.lat, DEPOT.lon, p.e + rnd.gaussian(opt.gnssSigmaM), p.n + rnd.gaussian(opt.gnssSigmaM));
      const altM = 110 + 10 * Math.sin(ph.s[k] / 3000);
      put(SIGNALS.lat, t, noisy.lat);
      put(SIGNALS.lon, t, noisy.lon);
      put(SIGNALS.alt, t, altM);
      put(SIGNALS.heading, t, p.heading);
      track.push({ timeMs: DRIVE_START_MS + ms, lat: noisy.lat, lon: noisy.lon, altM, speedKmh: kmh, headingDeg: p.heading });
    }
  }

  rows.sort((a, b) => a.t - b.t || a.seq - b.seq);
  const count = rows.length;
  const ids = new Uint32Array(count), timesUs = new Float64Array(count), values = new Float64Array(count);
  rows.forEach((r, i) => {
    ids[i] = r.id;
    timesUs[i] = r.t;
    values[i] = r.v;
  });

  // Border crossing times of the true (noise-free) route.
  const crossing = (test: (e: number, n: number) => boolean, from: number): number => {
    for (let k = Math.round(from / DT); k < ph.steps; k++) {
      const p = along(ph.s[k]);
      if (test(p.e, p.n)) return us(k * DT);
    }
    return NaN;
  };
  const inZone = (e: number, n: number): boolean => e > 1000 && e < 9000 && n > 2500 && n < 6000;
  const zoneEnterUs = crossing(inZone, 0);
  const stops: DriveTruth['stops'] = {};
  for (const [name, st] of Object.entries(ph.stops)) {
    const p = along(st.s);
    stops[name] = { fromUs: us(st.from), toUs: us(st.to), ...offsetLatLon(DEPOT.lat, DEPOT.lon, p.e, p.n) };
  }
  const crashK = Math.round(ph.crashT / DT);
  const crashPos = truthPos(crashK);
  const truth: DriveTruth = {
    ignitionOnUs: us(T_START),
    ignitionOffUs: us(offT),
    distanceKm: distanceOn / 1000,
    maxSpeedKmh: maxKmh,
    fuelUsedL: fuelUsed,
    stops,
    depotExitUs: crossing((e, n) => Math.hypot(e, n) > DEPOT_RADIUS_M, 0),
    zoneEnterUs,
    zoneExitUs: crossing((e, n) => !inZone(e, n), (zoneEnterUs / 1e6 - DRIVE_START_MS / 1000)),
    passengerDoorOpenUs: us(Math.ceil((passenger.from + 3) * 2) / 2),
    passengerDoorCloseUs: us(Math.ceil((passenger.from + 9) * 2) / 2),
    hardBrakeStartUs: us(ph.hardBrakeT),
    collision: { timeUs: us(ph.crashT), lat: crashPos.lat, lon: crashPos.lon, speedKmh: ph.v[crashK - 1] * 3.6 },
    tyreGlitchUs: us(tyreGlitch),
    tyreWarning: { fromUs: us(tyreFrom), toUs: us(tyreTo) },
    coolantOscillation: { fromUs: us(coolFrom), toUs: us(coolTo) },
    service1000Us,
  };
  return {
    names,
    idOf,
    ids,
    timesUs,
    values,
    count,
    forEachBatch(size, fn) {
      for (let i = 0; i < count; i += size) {
        const n = Math.min(size, count - i);
        fn(ids.subarray(i, i + n), timesUs.subarray(i, i + n), values.subarray(i, i + n), n);
      }
    },
    track,
    truth,
  };
}

/** Metres of (lat, lon) east/north of the depot centre — for assertions about positions. */
export function depotLocal(lat: number, lon: number): { e: number; n: number } {
  return { e: eastM(DEPOT.lat, DEPOT.lon, lon), n: northM(DEPOT.lat, lat) };
}
