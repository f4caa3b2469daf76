/**
 * The settings of the edge features (trip, collision, alerts, maintenance, status, monitors) with
 * their defaults: what `features:` reads into (features.ts) and what agent/rules/features/ runs on.
 */
import type { StatesConfig } from './rules.js';

export interface CollisionConfig {
  /** Crash/airbag signal: a collision when its value rises to `atLeast`. */
  airbag?: { signal: string; atLeast: number };
  /** Acceleration components whose vector magnitude is compared with `thresholdG`. */
  acceleration?: { signals: string[]; thresholdG: number; unit: 'm/s2' | 'g' };
  preWindowS: number;
  postWindowS: number;
  windowSignals: string[];
  cooldownS: number;
  impactSpeedS: number;
  speedSignal: string;
}

export const DEFAULT_COLLISION: CollisionConfig = {
  airbag: { signal: 'Vehicle.Cabin.Seat.Row1.DriverSide.Airbag.IsDeployed', atLeast: 1 },
  acceleration: { signals: ['Vehicle.Acceleration.Longitudinal', 'Vehicle.Acceleration.Lateral'], thresholdG: 2.5, unit: 'm/s2' },
  preWindowS: 10,
  postWindowS: 5,
  windowSignals: [
    'Vehicle.Speed',
    'Vehicle.Acceleration.Longitudinal',
    'Vehicle.Acceleration.Lateral',
    'Vehicle.CurrentLocation.Latitude',
    'Vehicle.CurrentLocation.Longitude',
  ],
  cooldownS: 30,
  impactSpeedS: 2,
  speedSignal: 'Vehicle.Speed',
};

export type AlertSeverity = 'info' | 'warning' | 'critical';

export interface AlertConfig {
  code: string;
  signal: string;
  /** Exactly one of equals / above / below. */
  equals?: number;
  above?: number;
  below?: number;
  severity: AlertSeverity;
  message: string;
  debounceS: number;
  clearDebounceS: number;
}

export interface IgnitionSpec {
  /** The configuration's states: `ignition` is the condition, and it may use the other states. */
  states: StatesConfig;
  /** Names the states may read: the vehicle signal table (vehicleSignalNames(config)). */
  signalNames: readonly string[];
  /** Vehicle fields the states may read (vehicleProfileFields(config.vehicle)). */
  profile: Readonly<Record<string, number | string>>;
  /** Silence of every input after which the ignition counts as OFF (s; 0 = never). */
  timeoutS: number;
}

/** No `states.ignition`: the ignition stays unknown (no trips; the status reports it UNSPECIFIED). */
export const DEFAULT_IGNITION: IgnitionSpec = { states: {}, signalNames: [], profile: {}, timeoutS: 60 };

export interface MaintenanceConfig {
  distanceSignal: string;
  timeSignal: string;
  odometerSignal: string;
  /** Next service date, ms since epoch (used when the vehicle has no time-to-service signal). */
  nextServiceMs?: number;
  /** Odometer reading (km) of the next service (used when there is no distance-to-service signal). */
  nextServiceOdometerKm?: number;
  periodS: number;
  distanceThresholdsKm: number[];
  dayThresholds: number[];
}

export const DEFAULT_MAINTENANCE: MaintenanceConfig = {
  distanceSignal: 'Vehicle.Service.DistanceToService',
  timeSignal: 'Vehicle.Service.TimeToService',
  odometerSignal: 'Vehicle.TraveledDistance',
  periodS: 86_400,
  distanceThresholdsKm: [1000, 0],
  dayThresholds: [30, 0],
};

export interface MonitorOptions {
  /** Default geofence margin (m) and dwell (s), unless a geofence sets its own. */
  geofenceMarginM: number;
  geofenceDwellS: number;
  thresholdDwellS: number;
}

export const DEFAULT_MONITOR_OPTIONS: MonitorOptions = { geofenceMarginM: 15, geofenceDwellS: 3, thresholdDwellS: 0 };

export interface DoorSignals {
  /** VSS row/side, e.g. "Row1.DriverSide". */
  name: string;
  open: string;
  locked: string;
}

export interface StatusConfig {
  minIntervalS: number;
  moveM: number;
  fuelStepPct: number;
  /** Fuel level and state of charge are reported as their mean over this time (fuel sloshes). */
  levelAverageS: number;
  /** 0 = no heartbeat. */
  heartbeatS: number;
  signals: { fuelLevel: string; soc: string; range: string; odometer: string; lock: string };
  doors: DoorSignals[];
}

const vssDoor = (row: number, side: 'DriverSide' | 'PassengerSide'): DoorSignals => ({
  name: `Row${row}.${side}`,
  open: `Vehicle.Cabin.Door.Row${row}.${side}.IsOpen`,
  locked: `Vehicle.Cabin.Door.Row${row}.${side}.IsLocked`,
});

export const DEFAULT_STATUS: StatusConfig = {
  minIntervalS: 10,
  moveM: 200,
  fuelStepPct: 5,
  levelAverageS: 60,
  heartbeatS: 0,
  signals: {
    fuelLevel: 'Vehicle.Powertrain.FuelSystem.RelativeLevel',
    soc: 'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current',
    range: 'Vehicle.Powertrain.Range',
    odometer: 'Vehicle.TraveledDistance',
    lock: '',
  },
  doors: [vssDoor(1, 'DriverSide'), vssDoor(1, 'PassengerSide'), vssDoor(2, 'DriverSide'), vssDoor(2, 'PassengerSide')],
};

export interface TripConfig {
  minDurationS: number;
  /** Needed to turn a fuel level (%) into litres. */
  tankCapacityL?: number;
  /** Needed to turn a state of charge (%) into kWh. */
  batteryCapacityKwh?: number;
  levelAverageS: number;
  maxSpeedGapS: number;
  signals: {
    speed: string;
    odometer: string;
    fuelLevel: string;
    fuelConsumed: string;
    soc: string;
    energyConsumed: string;
  };
}

export const DEFAULT_TRIP: TripConfig = {
  minDurationS: 60,
  levelAverageS: 60,
  maxSpeedGapS: 10,
  signals: {
    speed: 'Vehicle.Speed',
    odometer: 'Vehicle.TraveledDistance',
    fuelLevel: 'Vehicle.Powertrain.FuelSystem.RelativeLevel',
    fuelConsumed: 'Vehicle.Powertrain.FuelSystem.AccumulatedConsumption',
    soc: 'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current',
    energyConsumed: 'Vehicle.Powertrain.TractionBattery.AccumulatedConsumedEnergy',
  },
};
