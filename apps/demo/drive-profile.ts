/**
 * The demo drive as a timeline of vehicle states, sampled every TICK_MS of simulated time.
 * Pure physics and scripting, no CAN: demo-log.ts turns these states into frames with the demo DBC.
 *
 * Script: unlock and get in, ignition on, city driving with stops, a highway stretch with an emergency
 * braking that leaves the home geofence, a tyre-pressure warning that comes and goes, back to town, a passenger door opened at
 * a stop, a low-speed collision, ignition off, driver leaves the car unlocked (the demo then locks it
 * remotely).
 */

export const TICK_MS = 100;

export interface DriveState {
  timeMs: number;
  speedKmh: number;
  longAccelG: number;
  latAccelG: number;
  ignition: 0 | 1 | 2 | 3;
  engineRunning: boolean;
  odometerKm: number;
  fuelLevelPct: number;
  fuelUsedL: number;
  rangeKm: number;
  doors: { driver: boolean; passenger: boolean; rearLeft: boolean; rearRight: boolean; trunk: boolean };
  lockState: 1 | 2;
  crash: boolean;
  crashSeverity: number;
  warnings: { oil: boolean; engine: boolean; brakes: boolean; tyres: boolean };
  daysToService: number;
  distanceToServiceKm: number;
  lat: number;
  lon: number;
  headingDeg: number;
  altitudeM: number;
}

/** Where the drive starts (and the centre of the demo's home geofence). */
export const DEMO_HOME = { lat: 48.7731, lon: 2.2069 };

const TANK_L = 45;
const CONSUMPTION_L_PER_KM = 0.062;
const EARTH_RADIUS_M = 6_371_000;

/** Target speed (km/h) over the script, in seconds since the start; null = parked. */
function targetSpeed(t: number): number | null {
  if (t < 20) return null;
  if (t < 170) return cityLeg(t - 20);
  if (t >= 250 && t < 262) return 70; // traffic slows down suddenly: an emergency braking
  if (t < 440) return t < 200 ? 50 + (t - 170) * 2.3 : 118 + 8 * Math.sin((t - 200) / 25);
  if (t < 600) return cityLeg(t - 440);
  if (t < 620) return 32;
  return null; // the collision at 620 s stops the car for good
}

/** Deceleration limit in m/s²: calm braking (0.29 g), except for the emergency braking on the highway. */
function brakingMs2(t: number): number {
  return t >= 250 && t < 256 ? 6 : 2.8;
}

/** 30 s cycles: accelerate to 50, cruise, brake to a stop at a light and wait there. */
function cityLeg(t: number): number {
  const phase = t % 30;
  if (phase < 8) return 50;
  if (phase < 20) return 45 + 5 * Math.sin(t);
  return 0;
}

export function* driveProfile(durationS = 680): Generator<DriveState> {
  const s: DriveState = {
    timeMs: 0, speedKmh: 0, longAccelG: 0, latAccelG: 0, ignition: 0, engineRunning: false,
    odometerKm: 23_456.7, fuelLevelPct: 62, fuelUsedL: 0, rangeKm: 0,
    doors: { driver: false, passenger: false, rearLeft: false, rearRight: false, trunk: false },
    lockState: 2, crash: false, crashSeverity: 0,
    warnings: { oil: false, engine: false, brakes: false, tyres: false },
    daysToService: 41, distanceToServiceKm: 1_240, lat: DEMO_HOME.lat, lon: DEMO_HOME.lon,
    headingDeg: 35, altitudeM: 112,
  };
  const dt = TICK_MS / 1000;
  for (let tick = 0; tick * TICK_MS <= durationS * 1000; tick++) {
    const t = tick * dt;
    s.timeMs = tick * TICK_MS;
    scriptEvents(s, t);
    const target = targetSpeed(t);
    const previous = s.speedKmh;
    if (s.crash) s.speedKmh = Math.max(0, previous - 30);
    else if (target === null) s.speedKmh = Math.max(0, previous - 12 * dt * 3.6);
    else s.speedKmh = previous + Math.max(-brakingMs2(t) * 3.6 * dt, Math.min(2.5 * 3.6 * dt, target - previous));
    const accelG = (s.speedKmh - previous) / 3.6 / dt / 9.81;
    s.longAccelG = t >= 620 && t < 620.3 ? -4.2 : accelG;
    s.latAccelG = s.speedKmh > 5 ? 0.05 * Math.sin(t / 7) : 0;
    const distanceKm = (s.speedKmh / 3600) * dt;
    s.odometerKm += distanceKm;
    s.distanceToServiceKm -= distanceKm;
    s.fuelUsedL += distanceKm * CONSUMPTION_L_PER_KM;
    s.fuelLevelPct = Math.max(0, 62 - (s.fuelUsedL / TANK_L) * 100);
    s.rangeKm = Math.round(((s.fuelLevelPct / 100) * TANK_L) / CONSUMPTION_L_PER_KM);
    s.headingDeg = (s.headingDeg + (s.speedKmh > 5 ? 0.4 * Math.sin(t / 40) : 0) + 360) % 360;
    move(s, distanceKm * 1000);
    yield s;
  }
}

function scriptEvents(s: DriveState, t: number): void {
  s.lockState = t < 3 ? 2 : 1;
  s.doors.driver = (t >= 5 && t < 9) || (t >= 655 && t < 659);
  s.doors.passenger = t >= 560 && t < 566;
  s.ignition = t >= 15 && t < 650 ? (t < 16 ? 3 : 2) : 0;
  s.engineRunning = s.ignition >= 2;
  s.crash = t >= 620 && t < 621;
  s.crashSeverity = s.crash ? 3 : 0;
  s.warnings.tyres = t >= 300 && t < 380;
}

function move(s: DriveState, metres: number): void {
  if (metres <= 0) return;
  const heading = (s.headingDeg * Math.PI) / 180;
  const dLat = (metres * Math.cos(heading)) / EARTH_RADIUS_M;
  const dLon = (metres * Math.sin(heading)) / (EARTH_RADIUS_M * Math.cos((s.lat * Math.PI) / 180));
  s.lat += (dLat * 180) / Math.PI;
  s.lon += (dLon * 180) / Math.PI;
}
