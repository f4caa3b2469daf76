/** `vehicle:` — who the vehicle is; rules may filter on these fields (`model_year >= 2020`). */
import type { ObjectReader } from '../config-reader.js';

export const FUEL_TYPES = ['petrol', 'diesel', 'electric', 'hybrid', 'plugin_hybrid', 'lpg', 'cng', 'hydrogen', 'other'] as const;
export type FuelType = (typeof FUEL_TYPES)[number];

export interface VehicleConfig {
  vin: string;
  brand: string;
  model: string;
  fuelType: FuelType;
  modelYear: number;
}

/** ISO 3779: 17 characters, digits and capitals except I, O and Q (the check digit is North American only). */
const VIN = /^[A-HJ-NPR-Z0-9]{17}$/;

export function readVehicle(r: ObjectReader): VehicleConfig {
  const vehicle: VehicleConfig = {
    vin: r.string('vin', { required: true, pattern: VIN, hint: '17 characters of A-Z and 0-9 without I, O or Q' }) ?? '',
    brand: r.string('brand', { required: true }) ?? '',
    model: r.string('model', { required: true }) ?? '',
    fuelType: r.oneOf('fuel_type', FUEL_TYPES, { required: true }) ?? 'other',
    modelYear: r.number('model_year', { required: true, integer: true, min: 1980, max: new Date().getFullYear() + 2 }) ?? 0,
  };
  r.done();
  return vehicle;
}

/** The names rule expressions use for the vehicle's fields. */
export function vehicleProfileFields(vehicle: VehicleConfig): Record<string, number | string> {
  return {
    vin: vehicle.vin,
    brand: vehicle.brand,
    model: vehicle.model,
    fuel_type: vehicle.fuelType,
    model_year: vehicle.modelYear,
  };
}

export const PROFILE_FIELD_NAMES = ['vin', 'brand', 'model', 'fuel_type', 'model_year'] as const;
