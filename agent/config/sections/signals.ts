/**
 * `signals:` — the signal catalog: vehicle signal name (COVESA VSS where one exists) → the DBC signal
 * that carries it, its unit and an optional transform. Rules, monitors and uploads use these names.
 *
 *   signals:
 *     Vehicle.Speed: HS2_DYN_ABR_38D.VITESSE_VEHICULE_ROUES        # short form
 *     Vehicle.Cabin.Door.Row1.DriverSide.IsOpen:
 *       source: body:Dat_BSI.DRIVER_DOOR                           # bus:Message.Signal
 *       map: { 0: 0, 1: 1, default: 0 }                           # DBC value → vehicle value
 */
import type { ValueNode } from '../config-reader.js';

export interface SignalSource {
  /** Bus name when the source is written `bus:Message.Signal`. */
  bus?: string;
  message: string;
  signal: string;
}

export interface SignalCatalogEntry {
  /** Vehicle signal name, e.g. Vehicle.Speed. */
  name: string;
  source: SignalSource;
  unit: string;
  /** value = dbcValue * scale + offset (when there is no map). */
  scale: number;
  offset: number;
  /** DBC value → vehicle value; values not listed become `mapDefault` (or pass through when it is undefined). */
  map?: Map<number, number>;
  mapDefault?: number;
}

/** Vehicle signal names: dotted words (Vehicle.Cabin.Door.Row1.DriverSide.IsOpen). */
export const SIGNAL_NAME = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$/;
/** `[bus:]Message.Signal` (DBC names may start with a digit, as in 0_COUNTER). */
const SOURCE = /^(?:([A-Za-z0-9_-]+):)?([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)$/;

export function readSignalCatalog(node: ValueNode, busNames: readonly string[]): SignalCatalogEntry[] {
  const entries = node.entries((item, name) => readEntry(item, name, busNames), { required: true });
  return entries.map(([, entry]) => entry);
}

function readEntry(item: ValueNode, name: string, busNames: readonly string[]): SignalCatalogEntry | undefined {
  if (!SIGNAL_NAME.test(name)) return item.problem('a signal name is dotted words of letters, digits and _ (like Vehicle.Speed)');
  if (typeof item.value === 'string') {
    const source = readSource(item, busNames);
    return source && { name, source, unit: '', scale: 1, offset: 0 };
  }
  const r = item.object({ required: true });
  if (!r) return undefined;
  const source = readSource(r.get('source'), busNames);
  const entry: SignalCatalogEntry = {
    name,
    source: source ?? { message: '', signal: '' },
    unit: r.string('unit', { default: '' }),
    scale: r.number('scale', { default: 1 }),
    offset: r.number('offset', { default: 0 }),
  };
  if (entry.scale === 0) r.get('scale').problem('must not be 0');
  if (r.has('map')) {
    if (r.has('scale') || r.has('offset')) r.get('map').problem('use either map or scale/offset, not both');
    readValueMap(r.get('map'), entry);
  }
  r.done();
  return source && entry;
}

function readSource(node: ValueNode, busNames: readonly string[]): SignalSource | undefined {
  const text = node.string({ required: true });
  if (text === undefined) return undefined;
  const match = SOURCE.exec(text);
  if (!match) return node.problem(`must be Message.Signal or bus:Message.Signal, got ${JSON.stringify(text)}`);
  const [, bus, message, signal] = match;
  if (bus !== undefined && !busNames.includes(bus)) {
    return node.problem(`bus '${bus}' is not in buses (${[...new Set(busNames)].join(', ') || 'none'})`);
  }
  return bus === undefined ? { message, signal } : { bus, message, signal };
}

function readValueMap(node: ValueNode, entry: SignalCatalogEntry): void {
  const pairs = node.entries((value, key) => {
    const mapped = typeof value.value === 'boolean' ? (value.value ? 1 : 0) : value.number({ required: true });
    if (mapped === undefined) return undefined;
    if (key !== 'default' && !Number.isFinite(Number(key))) return value.problem('map keys are DBC values (numbers) or default');
    return mapped;
  });
  if (pairs.length === 0) {
    node.problem('must map at least one DBC value');
    return;
  }
  entry.map = new Map();
  for (const [key, mapped] of pairs) {
    if (key === 'default') entry.mapDefault = mapped;
    else entry.map.set(Number(key), mapped);
  }
}
