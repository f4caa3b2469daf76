/**
 * The vehicle signal table as the backend sees it: per vehicle signal id, its name, unit and the grid
 * (scale, offset) on which the store and the uplink carry its values as integers.
 *
 * A catalog signal's grid is its DBC signal's resolution carried through the catalog transform, so a
 * value read from the bus survives the trip exactly; mapped and GNSS signals get fixed grids.
 */
import type { ISignalDescriptor } from '../../proto/gen/roadlink.js';
import { vehicleSignalNames, type Config } from '../config/config.js';
import type { SignalInfo } from '../decode/decoder.js';
import type { SignalMap } from '../rules/signal-map.js';

/** GNSS signals: 1e-7 degree is about 1 cm; other fields to a useful precision. */
const GNSS_GRIDS: Record<string, { unit: string; scale: number }> = {
  'Vehicle.CurrentLocation.Latitude': { unit: 'degrees', scale: 1e-7 },
  'Vehicle.CurrentLocation.Longitude': { unit: 'degrees', scale: 1e-7 },
  'Vehicle.CurrentLocation.Altitude': { unit: 'm', scale: 0.1 },
  'Vehicle.CurrentLocation.Heading': { unit: 'degrees', scale: 0.01 },
  'Vehicle.CurrentLocation.HorizontalAccuracy': { unit: 'm', scale: 0.1 },
  'Vehicle.Speed': { unit: 'km/h', scale: 0.01 },
};

/** Grid for signals whose source resolution is unknown (derived values): 1e-3 of their unit. */
const FALLBACK_SCALE = 1e-3;

export function vehicleSignalDescriptors(config: Config, decoderSignals: readonly SignalInfo[], map: SignalMap): ISignalDescriptor[] {
  const names = vehicleSignalNames(config);
  const sourceOf = new Map<number, SignalInfo>();
  map.vehicleId.forEach((vehicleId, decoderIndex) => {
    if (vehicleId >= 0 && !sourceOf.has(vehicleId)) sourceOf.set(vehicleId, decoderSignals[decoderIndex]);
  });
  return names.map((name, id) => {
    const entry = config.signals.find((s) => s.name === name);
    const gnss = GNSS_GRIDS[name];
    if (!entry) return { id, name, unit: gnss?.unit ?? '', scale: gnss?.scale ?? FALLBACK_SCALE, offset: 0 };
    const source = sourceOf.get(id);
    const unit = entry.unit || source?.unit || '';
    if (entry.map) return { id, name, unit, scale: 1, offset: 0 };
    if (!source || source.isFloat) return { id, name, unit, scale: FALLBACK_SCALE, offset: 0 };
    // vehicle = (raw * factor + dbcOffset) * scale + offset
    return { id, name, unit, scale: source.factor * entry.scale, offset: source.offset * entry.scale + entry.offset };
  });
}
