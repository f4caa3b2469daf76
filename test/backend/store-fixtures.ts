/** Uploads for the store tests: a vehicle's checkin, sample batches, events, status. */
import { decodeSampleChunk, SampleChunkEncoder } from '../../wire/sample-chunk.js';
import type { CheckinUpload, EventUpload, SamplesUpload, SignalDescriptor, StatusUpload } from '../../backend/db/uploads.js';

export const VIN = 'WVWZZZ1JZXW000001';
export const VIN_2 = 'VF3ABCDEF12345678';
export const T0 = Date.UTC(2026, 0, 15, 8, 0, 0);

export const SIGNAL_TABLE = 0x1234;
export const DESCRIPTORS: SignalDescriptor[] = [
  { id: 1, name: 'Vehicle.Speed', unit: 'km/h', scale: 0.01, offset: 0 },
  { id: 2, name: 'Vehicle.CurrentLocation.Latitude', unit: 'degrees', scale: 1e-7, offset: 0 },
  { id: 3, name: 'Vehicle.CurrentLocation.Longitude', unit: 'degrees', scale: 1e-7, offset: 0 },
];

export function checkin(vin = VIN, timeMs = T0): CheckinUpload {
  return {
    kind: 'checkin', vin, brand: 'Roadlink', model: 'Demo', fuelType: 'petrol', modelYear: 2024, agentVersion: '0.1.0', configVersion: 'c1',
    rulesVersion: 3, capabilities: ['cmd:door_lock'], bootId: 'boot-1', timeMs, signalTable: SIGNAL_TABLE, signals: DESCRIPTORS,
  };
}

/**
 * Speed samples numbered firstSeq.. (one every 100 ms from T0 + (firstSeq - 1) * 100 ms, raw value = seq),
 * plus as many latitude/longitude samples at the same times when `withPosition`.
 */
export function speedSamples(firstSeq: number, count: number, options: { vin?: string; epoch?: string; withPosition?: boolean } = {}): SamplesUpload {
  const signals = options.withPosition ? [1, 2, 3] : [1];
  const n = count * signals.length;
  const signal = new Uint32Array(n);
  const time = new Float64Array(n);
  const raw = new Float64Array(n);
  let k = 0;
  for (const s of signals) {
    for (let i = 0; i < count; i++, k++) {
      const seq = firstSeq + i;
      signal[k] = s;
      time[k] = T0 + (seq - 1) * 100;
      raw[k] = s === 1 ? seq : s === 2 ? 488_000_000 + seq : 23_000_000 + seq;
    }
  }
  const bytes = new SampleChunkEncoder().encodeArrivals({ firstSeq, priority: 2, rule: 'base', signalTable: SIGNAL_TABLE }, n, signal, time, raw);
  const { columns } = decodeSampleChunk(bytes);
  return { kind: 'samples', vin: options.vin ?? VIN, epoch: options.epoch ?? '', stream: 'data', firstSeq, signalTable: SIGNAL_TABLE, rule: 'base', columns };
}

export function alertEvent(seq: number, options: { vin?: string; epoch?: string; timeMs?: number } = {}): EventUpload {
  return {
    kind: 'event', vin: options.vin ?? VIN, epoch: options.epoch ?? '', stream: 'events', seq, timeMs: options.timeMs ?? T0 + seq * 1000,
    priority: 'HIGH', eventKind: 'alert', detail: { code: 'tyre_pressure', active: true, severity: 'warning' },
  };
}

export function tripEvent(seq: number, departureMs: number): EventUpload {
  const arrivalMs = departureMs + 600_000;
  const fix = (lat: number, timeMs: number) => ({ lat, lon: 2.35, altM: 0, headingDeg: 0, speedKmh: 0, timeMs, source: 'GNSS' });
  return {
    kind: 'event', vin: VIN, epoch: '', stream: 'events', seq, timeMs: arrivalMs, priority: 'NORMAL', eventKind: 'trip',
    detail: { tripId: `trip-${seq}` },
    trip: {
      tripId: `trip-${seq}`, departureMs, arrivalMs, departure: fix(48.8, departureMs), arrival: fix(48.9, arrivalMs), distanceKm: 12.5,
      distanceSource: 'ODOMETER', durationS: 600, maxSpeedKmh: 90, avgSpeedKmh: 45, fuelUsedL: 0.9, energyUsedKwh: 0,
    },
  };
}

export function status(timeMs: number, odometerKm: number): StatusUpload {
  return {
    kind: 'status', vin: VIN, timeMs, position: { lat: 48.85, lon: 2.35, altM: 35, headingDeg: 90, speedKmh: 30, timeMs, source: 'GNSS' },
    speedKmh: 30, fuelLevelPct: 55, batterySocPct: 0, rangeKm: 420, odometerKm, ignition: 'ON',
    doors: [{ name: 'Row1.DriverSide', open: true, locked: false }], locked: false, seq: 0,
  };
}
