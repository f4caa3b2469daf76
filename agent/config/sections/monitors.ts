/**
 * `monitors:` — geofences and thresholds. Parsed and checked here; the vehicle features
 * (agent/rules/features/monitors.ts) run them. Hysteresis keys left out (`margin_m`, `dwell`) stay
 * undefined here and take the `features:` defaults (geofence_margin_m, geofence_dwell, threshold_dwell)
 * when the monitors run, so a backend rules update without them gets the vehicle's defaults too.
 */
import type { ObjectReader, ValueNode } from '../config-reader.js';
import { readPriority } from './priority.js';
import { type PriorityLevel } from '../../../wire/priority.js';

export interface LatLon {
  lat: number;
  lon: number;
}

interface GeofenceCommon {
  name: string;
  priority: PriorityLevel;
  /** Metres beyond the border before a crossing counts (absent: features.geofence_margin_m). */
  marginM?: number;
  /** Seconds the position must stay beyond the border (absent: features.geofence_dwell). */
  dwellS?: number;
}
export type GeofenceConfig =
  | (GeofenceCommon & { shape: 'circle'; center: LatLon; radiusM: number })
  | (GeofenceCommon & { shape: 'polygon'; points: LatLon[] });

export interface ThresholdConfig {
  name: string;
  /** Vehicle signal name from the catalog. */
  signal: string;
  /** Crossing upwards past `above`, or downwards past `below` (exactly one is set). */
  above?: number;
  below?: number;
  /** The value must come back by this much before the monitor can fire again. */
  hysteresis: number;
  /** Seconds both states must hold before they count (absent: features.threshold_dwell). */
  dwellS?: number;
  priority: PriorityLevel;
}

export interface MonitorsConfig {
  geofences: GeofenceConfig[];
  thresholds: ThresholdConfig[];
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const NAME_HINT = 'a name of letters, digits, _, . or -';

export function readMonitors(node: ValueNode, signalNames: ReadonlySet<string>): MonitorsConfig {
  const r = node.object();
  const monitors: MonitorsConfig = {
    geofences: r?.list('geofences', readGeofence) ?? [],
    thresholds: r?.list('thresholds', (item) => readThreshold(item, signalNames)) ?? [],
  };
  r?.done();
  return monitors;
}

function readGeofence(item: ValueNode): GeofenceConfig | undefined {
  const r = item.object();
  if (!r) return undefined;
  const common: GeofenceCommon = {
    name: r.string('name', { required: true, pattern: NAME, hint: NAME_HINT }) ?? '',
    priority: readPriority(r, 'normal'),
    ...readMarginAndDwell(r, true),
  };
  const shape = r.oneOf('shape', ['circle', 'polygon'] as const, { required: true });
  let fence: GeofenceConfig | undefined;
  if (shape === 'circle') {
    const center = readLatLon(r.get('center'));
    const radiusM = r.number('radius_m', { required: true, min: 1, max: 1e7 });
    fence = center && radiusM !== undefined ? { ...common, shape, center, radiusM } : undefined;
  } else if (shape === 'polygon') {
    const points = r.list('points', (p) => readLatLon(p), { required: true, minItems: 3 });
    fence = { ...common, shape, points };
  }
  r.done(shape ? [] : ['center', 'radius_m', 'points']);
  return fence;
}

/**
 * `margin_m` (geofences only) and `dwell`, only when written: an absent key stays absent so that the
 * `features:` default applies.
 */
function readMarginAndDwell(r: ObjectReader, withMargin = false): { marginM?: number; dwellS?: number } {
  const out: { marginM?: number; dwellS?: number } = {};
  if (withMargin) {
    const marginM = r.number('margin_m', { min: 0, max: 10_000 });
    if (marginM !== undefined) out.marginM = marginM;
  }
  const dwellMs = r.duration('dwell');
  if (dwellMs !== undefined) out.dwellS = dwellMs / 1000;
  return out;
}

/**
 * A point: `{ lat: 48.8, lon: 2.3 }` only. A `[a, b]` pair is refused: GeoJSON writes [lon, lat] and
 * most other tools [lat, lon], and a swapped point still parses (a fence in the wrong country).
 */
export function readLatLon(node: ValueNode): LatLon | undefined {
  if (!node.present) return node.problem('is required');
  if (Array.isArray(node.value)) {
    return node.problem('must be { lat: <degrees>, lon: <degrees> }: a [a, b] pair is ambiguous (GeoJSON writes [lon, lat], most tools [lat, lon])');
  }
  const r = node.object();
  if (!r) return undefined;
  const lat = r.number('lat', { required: true, min: -90, max: 90 });
  const lon = r.number('lon', { required: true, min: -180, max: 180 });
  r.done();
  return lat === undefined || lon === undefined ? undefined : { lat, lon };
}

function readThreshold(item: ValueNode, signalNames: ReadonlySet<string>): ThresholdConfig | undefined {
  const r = item.object();
  if (!r) return undefined;
  const signalNode = r.get('signal');
  const signal = signalNode.string({ required: true });
  if (signal !== undefined && !signalNames.has(signal)) signalNode.problem(`unknown signal '${signal}' (not in signals:)`);
  const threshold: ThresholdConfig = {
    name: r.string('name', { required: true, pattern: NAME, hint: NAME_HINT }) ?? '',
    signal: signal ?? '',
    above: r.number('above'),
    below: r.number('below'),
    hysteresis: r.number('hysteresis', { default: 0, min: 0 }),
    priority: readPriority(r, 'normal'),
    ...readMarginAndDwell(r),
  };
  if (r.has('above') === r.has('below')) r.problem('needs exactly one of above or below');
  r.done();
  return threshold;
}
