/**
 * Store records → API resources (the shapes of openapi.ts): RFC 3339 times, GeoJSON positions
 * ([lon, lat(, alt)]), HAL links.
 */
import type { CommandRecord, EventRecord, MonitorRecord, PositionFix, TripRecord, VehicleInfo, VehicleStatus } from '../db/backend-store.js';
import type { Links } from './hal.js';
import { vehiclePath } from './hal.js';

export const rfc3339 = (ms: number): string => new Date(ms).toISOString();
const optionalTime = (ms: number): string | null => (ms > 0 ? rfc3339(ms) : null);

export interface GeoPoint {
  type: 'Point';
  coordinates: number[];
}

export function geoPoint(fix: { lat: number; lon: number; altM?: number }): GeoPoint {
  return { type: 'Point', coordinates: fix.altM ? [fix.lon, fix.lat, fix.altM] : [fix.lon, fix.lat] };
}

export function positionFeature(fix: PositionFix): Record<string, unknown> {
  return {
    type: 'Feature',
    geometry: geoPoint(fix),
    properties: { time: optionalTime(fix.timeMs), speedKmh: fix.speedKmh, headingDeg: fix.headingDeg, source: fix.source },
  };
}

export function vehicleResource(v: VehicleInfo): Record<string, unknown> {
  const self = vehiclePath(v.vin);
  const links: Links = {
    self: { href: self },
    status: { href: `${self}/status` },
    trips: { href: `${self}/trips` },
    telemetry: { href: `${self}/telemetry` },
    track: { href: `${self}/telemetry/track` },
    alerts: { href: `${self}/alerts` },
    maintenance: { href: `${self}/maintenance` },
    collisions: { href: `${self}/collisions` },
    remote: { href: `${self}/remote` },
    monitors: { href: `/monitors?vin=${encodeURIComponent(v.vin)}` },
  };
  return {
    vin: v.vin,
    brand: v.brand,
    model: v.model,
    fuelType: v.fuelType,
    modelYear: v.modelYear,
    agentVersion: v.agentVersion,
    configVersion: v.configVersion,
    rulesVersion: v.rulesVersion,
    capabilities: v.capabilities,
    online: v.online,
    firstSeen: rfc3339(v.firstSeenMs),
    lastCheckin: optionalTime(v.checkinMs),
    _links: links,
  };
}

export function statusResource(s: VehicleStatus): Record<string, unknown> {
  const vehicle = vehiclePath(s.vin);
  return {
    vin: s.vin,
    time: rfc3339(s.timeMs),
    received: rfc3339(s.receivedMs),
    position: s.position ? positionFeature(s.position) : null,
    speedKmh: s.speedKmh,
    fuel: { levelPct: s.fuelLevelPct, batterySocPct: s.batterySocPct },
    autonomy: { rangeKm: s.rangeKm },
    odometerKm: s.odometerKm,
    ignition: s.ignition,
    doors: s.doors,
    openDoors: s.doors.filter((d) => d.open).map((d) => d.name),
    locked: s.locked,
    _links: { self: { href: `${vehicle}/status` }, vehicle: { href: vehicle } },
  };
}

export function tripResource(t: TripRecord): Record<string, unknown> {
  const vehicle = vehiclePath(t.vin);
  const track = `${vehicle}/telemetry/track?from=${encodeURIComponent(rfc3339(t.departureMs))}&to=${encodeURIComponent(rfc3339(t.arrivalMs + 1))}`;
  return {
    id: String(t.id),
    tripId: t.tripId,
    departure: { time: rfc3339(t.departureMs), position: t.departure ? geoPoint(t.departure) : null },
    arrival: { time: rfc3339(t.arrivalMs), position: t.arrival ? geoPoint(t.arrival) : null },
    distanceKm: t.distanceKm,
    distanceSource: t.distanceSource,
    durationS: t.durationS,
    maxSpeedKmh: t.maxSpeedKmh,
    avgSpeedKmh: t.avgSpeedKmh,
    consumption: {
      fuelL: t.fuelUsedL,
      energyKwh: t.energyUsedKwh,
      fuelLPer100Km: t.distanceKm > 0 && t.fuelUsedL > 0 ? Math.round((t.fuelUsedL / t.distanceKm) * 100 * 100) / 100 : null,
    },
    _links: { self: { href: `${vehicle}/trips/${t.id}` }, vehicle: { href: vehicle }, track: { href: track } },
  };
}

/** Where an event is listed (its `self` link): the collection of its kind. */
const EVENT_COLLECTION: Partial<Record<string, string>> = { alert: 'alerts', maintenance: 'maintenance', collision: 'collisions' };

export function eventResource(e: EventRecord): Record<string, unknown> {
  const vehicle = vehiclePath(e.vin);
  const collection = EVENT_COLLECTION[e.kind];
  const self = collection ? `${vehicle}/${collection}?from=${encodeURIComponent(rfc3339(e.timeMs))}&to=${encodeURIComponent(rfc3339(e.timeMs + 1))}` : e.monitorId ? `/monitors/${e.monitorId}/transitions` : vehicle;
  return {
    id: String(e.id),
    kind: e.kind,
    time: rfc3339(e.timeMs),
    priority: e.priority,
    ...(e.monitorId ? { monitorId: e.monitorId } : {}),
    position: e.position ? geoPoint(e.position) : null,
    detail: e.detail,
    _links: { self: { href: self }, vehicle: { href: vehicle } },
  };
}

/** How long a command is valid once signed, and how long after expiry the API waits before calling it TIMEOUT. */
export const COMMAND_TTL_MS = 30_000;
export const COMMAND_GRACE_MS = 10_000;

/** The API's states: the vehicle's, and TIMEOUT (reason no_response) when it never answered before the command expired. */
export function remoteActionResource(c: CommandRecord, nowMs: number): Record<string, unknown> {
  const vehicle = vehiclePath(c.vin);
  const expiresMs = c.createdMs + COMMAND_TTL_MS;
  const open = c.state === 'PENDING' || c.state === 'IN_PROGRESS' || c.state === 'UNSPECIFIED';
  const lapsed = open && nowMs > expiresMs + COMMAND_GRACE_MS;
  return {
    id: c.id,
    vin: c.vin,
    action: c.action,
    args: c.args,
    state: lapsed ? 'TIMEOUT' : c.state === 'UNSPECIFIED' ? 'PENDING' : c.state,
    reason: lapsed ? 'no_response' : c.reason,
    detail: lapsed ? 'the vehicle did not answer before the command expired' : c.detail,
    created: rfc3339(c.createdMs),
    updated: rfc3339(c.updatedMs),
    completed: lapsed ? rfc3339(expiresMs + COMMAND_GRACE_MS) : optionalTime(c.completedMs),
    expires: rfc3339(expiresMs),
    _links: { self: { href: `${vehicle}/remote/${encodeURIComponent(c.id)}` }, vehicle: { href: vehicle } },
  };
}

export function monitorResource(m: MonitorRecord, options: { withSecret?: boolean } = {}): Record<string, unknown> {
  const self = `/monitors/${encodeURIComponent(m.id)}`;
  const shape = 'center' in m.shape ? { geometry: { type: 'Point', coordinates: m.shape.center }, radiusM: m.shape.radiusM } : { geometry: { type: 'Polygon', coordinates: [m.shape.ring] } };
  return {
    id: m.id,
    vin: m.vin,
    kind: m.kind,
    ...shape,
    state: m.state,
    error: m.error,
    callbackUrl: m.callbackUrl,
    ...(options.withSecret ? { secret: m.secret } : {}),
    created: rfc3339(m.createdMs),
    updated: rfc3339(m.updatedMs),
    _links: { self: { href: self }, vehicle: { href: vehiclePath(m.vin) }, transitions: { href: `${self}/transitions` } },
  };
}
