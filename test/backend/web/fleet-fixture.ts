/**
 * A short drive of one vehicle (DRIVE_VIN by default), written to a real store through applyUploads (what the ingest worker
 * calls): its checkin, one position per second along a loop south-west of Paris, the trip, a
 * tyre-pressure alert, a collision on the route and the final status (ignition off, a door open).
 */
import type { BackendStore } from '../../../backend/db/backend-store.js';
import type { SamplesUpload, SignalDescriptor, Upload } from '../../../backend/db/uploads.js';
import { decodeSampleChunk, SampleChunkEncoder } from '../../../wire/sample-chunk.js';

export const DRIVE_VIN = 'VR3UHZKXZPT000042';
export const DRIVE_START_MS = Date.UTC(2026, 2, 10, 7, 30, 0);
export const DRIVE_POINTS = 240;
const SIGNAL_TABLE = 0x5eed;
const SIGNALS: SignalDescriptor[] = [
  { id: 1, name: 'Vehicle.Speed', unit: 'km/h', scale: 0.01, offset: 0 },
  { id: 2, name: 'Vehicle.CurrentLocation.Latitude', unit: 'degrees', scale: 1e-7, offset: 0 },
  { id: 3, name: 'Vehicle.CurrentLocation.Longitude', unit: 'degrees', scale: 1e-7, offset: 0 },
];

export interface DrivePoint {
  timeMs: number;
  lat: number;
  lon: number;
  speedKmh: number;
}

/** An ellipse of about 4 km by 2.5 km, driven once in DRIVE_POINTS seconds. */
export function drivePoints(): DrivePoint[] {
  return Array.from({ length: DRIVE_POINTS }, (_, i) => {
    const angle = (2 * Math.PI * i) / (DRIVE_POINTS - 1);
    return { timeMs: DRIVE_START_MS + i * 1000, lat: 48.7731 + 0.012 * Math.sin(angle), lon: 2.2069 + 0.028 * (1 - Math.cos(angle)), speedKmh: 40 + 20 * Math.sin(angle / 2) };
  });
}

function samples(vin: string, points: DrivePoint[]): SamplesUpload {
  const n = points.length * SIGNALS.length;
  const signal = new Uint32Array(n);
  const time = new Float64Array(n);
  const raw = new Float64Array(n);
  let k = 0;
  for (const descriptor of SIGNALS) {
    for (const p of points) {
      const value = descriptor.id === 1 ? p.speedKmh : descriptor.id === 2 ? p.lat : p.lon;
      signal[k] = descriptor.id;
      time[k] = p.timeMs;
      raw[k++] = Math.round(value / descriptor.scale);
    }
  }
  const bytes = new SampleChunkEncoder().encodeArrivals({ firstSeq: 1, priority: 2, rule: 'base', signalTable: SIGNAL_TABLE }, n, signal, time, raw);
  return { kind: 'samples', vin, epoch: '', stream: 'data', firstSeq: 1, signalTable: SIGNAL_TABLE, rule: 'base', columns: decodeSampleChunk(bytes).columns };
}

const fix = (p: DrivePoint) => ({ lat: p.lat, lon: p.lon, altM: 80, headingDeg: 0, speedKmh: p.speedKmh, timeMs: p.timeMs, source: 'GNSS' });

export const COLLISION_POINT = 180;

/** The uploads of the drive; `capabilities` is the vehicle's command catalog as `cmd:NAME`. */
export function driveUploads(vin: string, capabilities: string[]): Upload[] {
  const points = drivePoints();
  const first = points[0];
  const last = points.at(-1)!;
  const crash = points[COLLISION_POINT];
  return [
    { kind: 'checkin', vin, brand: 'Peugeot', model: '208', fuelType: 'petrol', modelYear: 2023, agentVersion: '0.1.0', configVersion: 'c1', rulesVersion: 0, capabilities, bootId: 'boot-1', timeMs: first.timeMs, signalTable: SIGNAL_TABLE, signals: SIGNALS },
    samples(vin, points),
    { kind: 'event', vin, epoch: '', stream: 'events', seq: 1, timeMs: points[60].timeMs, priority: 'HIGH', eventKind: 'alert', position: fix(points[60]), detail: { code: 'tyre_pressure', active: true, severity: 'warning', message: 'front left 1.6 bar' } },
    {
      kind: 'event', vin, epoch: '', stream: 'events', seq: 2, timeMs: crash.timeMs, priority: 'CRITICAL', eventKind: 'collision', position: fix(crash),
      detail: { position: { type: 'Point', coordinates: [crash.lon, crash.lat] }, speedKmh: crash.speedKmh, trigger: 'acceleration', peakAccelG: 4.2 },
    },
    {
      kind: 'event', vin, epoch: '', stream: 'events', seq: 3, timeMs: last.timeMs, priority: 'NORMAL', eventKind: 'trip', detail: { tripId: 'trip-1' },
      trip: { tripId: 'trip-1', departureMs: first.timeMs, arrivalMs: last.timeMs, departure: fix(first), arrival: fix(last), distanceKm: 10.4, distanceSource: 'ODOMETER', durationS: (last.timeMs - first.timeMs) / 1000, maxSpeedKmh: 60, avgSpeedKmh: 42, fuelUsedL: 0.7, energyUsedKwh: 0 },
    },
    {
      kind: 'status', vin, timeMs: last.timeMs + 5_000, position: fix(last), speedKmh: 0, fuelLevelPct: 63, batterySocPct: 0, rangeKm: 512, odometerKm: 23_456.7,
      ignition: 'OFF', doors: [{ name: 'Row1.DriverSide', open: true, locked: false }, { name: 'Row1.PassengerSide', open: false, locked: false }], locked: false, seq: 0,
    },
  ];
}

export async function storeDrive(store: BackendStore, vin: string, capabilities: string[]): Promise<void> {
  const [checkin, ...rest] = driveUploads(vin, capabilities);
  await store.applyUploads([checkin]);
  await store.applyUploads(rest);
}
