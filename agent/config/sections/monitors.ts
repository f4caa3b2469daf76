/**
 * `monitors:` — geofences and thresholds. Parsed and checked here; the vehicle features
 * (agent/rules/features/) run them.
 */
import type { ValueNode } from '../config-reader.js';
import type { PriorityLevel } from '../../rules/rule-output.js';
import { readPriority } from './priority.js';

export interface LatLon {
  lat: number;
  lon: number;
}

interface GeofenceCommon {
  name: string;
  priority: PriorityLevel;
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
  const common = { name: r.string('name', { required: true, pattern: NAME, hint: NAME_HINT }) ?? '', priority: readPriority(r, 'normal') };
  const shape = r.oneOf('shape', ['circle', 'polygon'] as const, { required: true });
  let fence: GeofenceConfig | undefined;
  if (shape === 'circle') {
    const center = readLatLon(r.get('center'), true);
    const radiusM = r.number('radius_m', { required: true, min: 1, max: 1e7 });
    fence = center && radiusM !== undefined ? { ...common, shape, center, radiusM } : undefined;
  } else if (shape === 'polygon') {
    const points = r.list('points', (p) => readLatLon(p, true), { required: true, minItems: 3 });
    fence = { ...common, shape, points };
  }
  r.done(shape ? [] : ['center', 'radius_m', 'points']);
  return fence;
}

/** `{ lat: 48.8, lon: 2.3 }` or `[48.8, 2.3]`. */
export function readLatLon(node: ValueNode, required: boolean): LatLon | undefined {
  if (!node.present) return required ? node.problem('is required') : undefined;
  let lat: number | undefined;
  let lon: number | undefined;
  if (Array.isArray(node.value)) {
    if (node.value.length !== 2) return node.problem(`must be [lat, lon], got ${node.value.length} numbers`);
    lat = node.child(0).number({ required: true, min: -90, max: 90 });
    lon = node.child(1).number({ required: true, min: -180, max: 180 });
  } else {
    const r = node.object();
    if (!r) return undefined;
    lat = r.number('lat', { required: true, min: -90, max: 90 });
    lon = r.number('lon', { required: true, min: -180, max: 180 });
    r.done();
  }
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
  };
  if (r.has('above') === r.has('below')) r.problem('needs exactly one of above or below');
  r.done();
  return threshold;
}
