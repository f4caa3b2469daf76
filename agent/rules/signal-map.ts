/**
 * From the decoder's signal table to the vehicle signal catalog: decoder signal index → vehicle signal
 * id plus the catalog's transform, as flat arrays read by RulesEngine.ingest() for every sample.
 */
import type { SignalCatalogEntry } from '../config/sections/signals.js';
import { growSampleBatch, type SampleBatch } from '../decode/sample-batch.js';

/** One entry of a decoder's signal table, in index order. */
export interface DecoderSignalRef {
  /** The bus whose frames the decoder decodes with this entry, when the decoder knows it. */
  bus?: string;
  message: string;
  signal: string;
}

export interface SignalMap {
  /** Decoder signal index → vehicle signal id; -1 when the catalog does not use the signal. */
  readonly vehicleId: Int32Array;
  /** Catalog transform per decoder signal index: value * scale + offset ... */
  readonly scale: Float64Array;
  readonly offset: Float64Array;
  /** ... or a value map (values not listed become mapDefault, or pass through when it is NaN). */
  readonly valueMap: (Map<number, number> | undefined)[];
  readonly mapDefault: Float64Array;
  /** Catalog entries that no decoder signal matched (their DBC is missing, or a name is misspelt). */
  readonly unmatched: SignalCatalogEntry[];
}

/**
 * A catalog source written `Message.Signal` matches that signal on every bus; `bus:Message.Signal`
 * matches only decoder entries of that bus, so it needs a decoder bound per bus (one DecoderBinding
 * per configured bus with its DBC files), not one '*' binding.
 */
export function buildSignalMap(
  catalog: readonly SignalCatalogEntry[],
  vehicleSignalId: (name: string) => number | undefined,
  decoderSignals: readonly DecoderSignalRef[],
): SignalMap {
  const n = decoderSignals.length;
  const map = {
    vehicleId: new Int32Array(n).fill(-1),
    scale: new Float64Array(n).fill(1),
    offset: new Float64Array(n),
    valueMap: new Array<Map<number, number> | undefined>(n).fill(undefined),
    mapDefault: new Float64Array(n).fill(NaN),
    unmatched: [] as SignalCatalogEntry[],
  };
  const byKey = new Map<string, number[]>();
  decoderSignals.forEach((ref, index) => {
    for (const key of [`${ref.message}.${ref.signal}`, ...(ref.bus === undefined ? [] : [`${ref.bus}:${ref.message}.${ref.signal}`])]) {
      const list = byKey.get(key) ?? [];
      list.push(index);
      byKey.set(key, list);
    }
  });
  for (const entry of catalog) {
    const id = vehicleSignalId(entry.name);
    if (id === undefined) throw new Error(`catalog signal ${entry.name} is not in the engine's signal table`);
    const key = `${entry.source.bus === undefined ? '' : `${entry.source.bus}:`}${entry.source.message}.${entry.source.signal}`;
    const indexes = byKey.get(key);
    if (!indexes) {
      map.unmatched.push(entry);
      continue;
    }
    for (const index of indexes) {
      map.vehicleId[index] = id;
      map.scale[index] = entry.scale;
      map.offset[index] = entry.offset;
      map.valueMap[index] = entry.map;
      map.mapDefault[index] = entry.mapDefault ?? NaN;
    }
  }
  return map;
}

/** The decoder's signal table as DecoderSignalRefs (a binding for bus '*' serves every bus). */
export function decoderSignalRefs(signals: readonly { bus: string; messageName: string; name: string }[]): DecoderSignalRef[] {
  return signals.map((s) => (s.bus === '*' ? { message: s.messageName, signal: s.name } : { bus: s.bus, message: s.messageName, signal: s.name }));
}

/**
 * Decoded samples (decoder signal indexes, DBC values) → vehicle samples (vehicle ids, catalog values),
 * appended to `out` (reset it first). Returns how many samples the catalog does not use.
 */
export function mapSamples(batch: SampleBatch, map: SignalMap, out: SampleBatch): number {
  const { vehicleId, scale, offset, valueMap, mapDefault } = map;
  const known = vehicleId.length;
  if (out.capacity < out.count + batch.count) growSampleBatch(out, out.count + batch.count);
  let unmapped = 0;
  let n = out.count;
  for (let k = 0; k < batch.count; k++) {
    const s = batch.signal[k];
    const id = s < known ? vehicleId[s] : -1;
    if (id < 0) {
      unmapped++;
      continue;
    }
    let value = batch.value[k];
    const table = valueMap[s];
    if (table === undefined) {
      value = value * scale[s] + offset[s];
    } else {
      const mapped = table.get(value);
      if (mapped !== undefined) value = mapped;
      else if (mapDefault[s] === mapDefault[s]) value = mapDefault[s];
    }
    out.signal[n] = id;
    out.timeUs[n] = batch.timeUs[k];
    out.value[n] = value;
    out.frame[n] = batch.frame[k];
    n++;
  }
  out.count = n;
  return unmapped;
}
