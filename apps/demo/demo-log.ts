/**
 * Writes the demo drive as a candump -L log: every message of the demo DBC at its GenMsgCycleTime,
 * its signals taken from the drive profile and encoded with the project's own DBC codec.
 * `roadlink demo` generates it on the fly, so the demo needs nothing but this repository.
 */
import type { DbcDatabase, DbcMessage } from '../../agent/decode/dbc-loader.js';
import { encodeMessage } from '../../agent/decode/encoder.js';
import { formatCandumpLine } from '../../drivers/replay/candump-writer.js';
import { driveProfile, TICK_MS, type DriveState } from './drive-profile.js';

/** Signal values of each demo message for one state of the drive. */
const MESSAGE_VALUES: Record<string, (s: DriveState, tick: number) => Record<string, number>> = {
  VEHICLE_DYNAMICS: (s, tick) => ({
    VehicleSpeed: s.speedKmh, LongitudinalAccel: s.longAccelG, LateralAccel: s.latAccelG, DynamicsCounter: tick % 16,
  }),
  IGNITION_STATUS: (s) => ({ IgnitionState: s.ignition, EngineRunning: s.engineRunning ? 1 : 0 }),
  ODOMETER: (s) => ({ Odometer: s.odometerKm }),
  FUEL_STATUS: (s) => ({ FuelLevel: s.fuelLevelPct, Range: s.rangeKm, FuelConsumedTotal: s.fuelUsedL }),
  DOOR_STATUS: (s) => ({
    DriverDoorOpen: +s.doors.driver, PassengerDoorOpen: +s.doors.passenger, RearLeftDoorOpen: +s.doors.rearLeft,
    RearRightDoorOpen: +s.doors.rearRight, TrunkOpen: +s.doors.trunk, LockState: s.lockState, HornActive: 0, LightsFlashing: 0,
  }),
  AIRBAG_STATUS: (s) => ({ CrashDetected: +s.crash, AirbagDeployed: +s.crash, CrashSeverity: s.crashSeverity }),
  WARNING_LAMPS: (s) => ({
    OilPressureWarning: +s.warnings.oil, EngineWarning: +s.warnings.engine, BrakeWarning: +s.warnings.brakes,
    TyrePressureWarning: +s.warnings.tyres,
  }),
  SERVICE_INFO: (s) => ({ DaysToService: s.daysToService, DistanceToService: Math.round(s.distanceToServiceKm) }),
  NAV_POSITION: (s) => ({ Latitude: s.lat, Longitude: s.lon }),
  NAV_HEADING: (s) => ({ Heading: s.headingDeg, Altitude: s.altitudeM }),
  CLIMATE_STATUS: () => ({ AcActive: 0, CabinTemperature: 14 }),
};

/** Default time of the first frame: a fixed date, so that the same call always writes the same log. */
export const DEFAULT_START_US = Date.UTC(2026, 0, 15, 8, 0, 0) * 1000;

export interface DemoLogOptions {
  bus?: string;
  /** Unix time of the first frame, in microseconds. */
  startUs?: number;
  durationS?: number;
}

/** The demo drive as candump -L lines (one string, newline-terminated). */
export function demoDriveLog(db: DbcDatabase, options: DemoLogOptions = {}): string {
  const bus = options.bus ?? 'can0';
  const startUs = options.startUs ?? DEFAULT_START_US;
  const periodic = db.messages.filter((m) => MESSAGE_VALUES[m.name] && m.cycleTimeMs);
  const missing = Object.keys(MESSAGE_VALUES).filter((name) => !db.messages.some((m) => m.name === name));
  if (missing.length > 0) throw new Error(`demo DBC lacks messages: ${missing.join(', ')}`);
  const lines: string[] = [];
  let tick = 0;
  for (const state of driveProfile(options.durationS)) {
    periodic.forEach((message, k) => {
      if (state.timeMs % (message.cycleTimeMs as number) !== 0) return;
      // Spread the messages of one tick over a few hundred microseconds, as on a real bus.
      const timeUs = startUs + state.timeMs * 1000 + k * 250;
      lines.push(frameLine(message, MESSAGE_VALUES[message.name](state, tick), timeUs, bus));
    });
    tick++;
  }
  return lines.join('\n') + '\n';
}

function frameLine(message: DbcMessage, values: Record<string, number>, timeUs: number, bus: string): string {
  const data = encodeMessage(message, clampToSignals(message, values));
  return formatCandumpLine(timeUs, bus, message.id, message.extended ? 1 : 0, data);
}

/** Keeps values inside each signal's DBC range so the encoder never refuses a physics overshoot. */
function clampToSignals(message: DbcMessage, values: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const signal of message.signals) {
    const v = values[signal.name];
    if (v === undefined) continue;
    out[signal.name] = Math.min(signal.max ?? v, Math.max(signal.min ?? v, v));
  }
  return out;
}

export { TICK_MS };
