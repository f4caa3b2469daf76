/**
 * Turns uplink messages into JSON objects for the backend reference receiver:
 * - protobuf JSON field names (lowerCamelCase), enums by name;
 * - epoch-millisecond fields as RFC 3339 strings (`timeMs` -> `time`, `departureMs` -> `departureTime`...);
 * - positions as GeoJSON Points ({"type":"Point","coordinates":[lon, lat(, alt)]}, the other Position
 *   fields as foreign members);
 * - SampleBatches (data messages, event windows) as samples with signal name, unit, time and
 *   physical value (raw * scale + offset), named from the vehicle's Checkin signal table.
 * Throws MessageError for payloads that are not the message their topic says.
 */
import { decodeSampleChunk, SampleChunkError } from '../wire/sample-chunk.js';
import {
  Checkin, CommandResponse, Event, Presence, Priority, RulesAck, SampleBatch, Status,
  type ICheckin, type ISampleBatch, type ISignalDescriptor,
} from '../proto/gen/roadlink.js';
import type { UpKind } from '../wire/topics.js';

export class MessageError extends Error {
  override name = 'MessageError';
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Epoch-millisecond fields (JSON name) and the name they get as RFC 3339 strings. */
export const EPOCH_FIELDS: Record<string, string> = {
  timeMs: 'time',
  departureMs: 'departureTime',
  arrivalMs: 'arrivalTime',
  issuedAtMs: 'issuedAt',
  expiresAtMs: 'expiresAt',
  sinceMs: 'since',
};
/** Fields holding a roadlink.v1.Position. */
export const POSITION_FIELDS = new Set(['position', 'departure', 'arrival']);
/** Fields holding a roadlink.v1.SampleBatch (event windows). */
export const WINDOW_FIELDS = new Set(['preWindow', 'postWindow', 'window']);

export function rfc3339(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/** Digits after the point needed to print multiples of `x` exactly (0.1 -> 1, 1e-7 -> 7, 0.125 -> 3). */
function decimalsOf(x: number): number {
  if (!Number.isFinite(x) || Number.isInteger(x)) return 0;
  const [mantissa, exponent] = Math.abs(x).toExponential().split('e');
  const fraction = mantissa.split('.')[1]?.length ?? 0;
  return Math.max(0, Math.min(15, fraction - Number(exponent)));
}

interface SignalInfo {
  name: string;
  unit: string;
  scale: number;
  offset: number;
  decimals: number;
}

/** A vehicle's signal tables, by id (Checkin.signal_table); the latest is used for batches that name none. */
class SignalTables {
  private readonly byId = new Map<number, Map<number, SignalInfo>>();
  latest: Map<number, SignalInfo> | undefined;

  set(id: number, signals: readonly ISignalDescriptor[]): void {
    const table = new Map<number, SignalInfo>();
    for (const s of signals) {
      const scale = s.scale || 1;
      const offset = s.offset ?? 0;
      table.set(s.id ?? 0, { name: s.name ?? '', unit: s.unit ?? '', scale, offset, decimals: Math.max(decimalsOf(scale), decimalsOf(offset)) });
    }
    this.byId.set(id, table);
    this.latest = table;
  }

  get(id: number): Map<number, SignalInfo> | undefined {
    return id === 0 ? this.latest : (this.byId.get(id) ?? undefined);
  }
}

export interface DecodedMessage {
  json: JsonObject;
  /** The sequence range it carries, for gap/duplicate tracking. */
  seq?: { stream: string; first: number; count: number };
}

const TO_OBJECT = { enums: String, longs: Number, bytes: String, oneofs: true } as const;

export class MessageDecoder {
  private readonly vehicles = new Map<string, SignalTables>();
  /** Samples whose signal id was not in the vehicle's table (sent with `signalId` and `raw`). */
  undecodedSamples = 0;

  /**
   * Decodes one payload (already inflated) of topic kind `kind` from vehicle `vin`. `meta` holds the
   * MQTT user properties `seq` (a record's store sequence number) and `stream` (the store stream,
   * when it is not the topic's name).
   */
  decode(vin: string, kind: UpKind, bytes: Uint8Array, meta: { seq?: number; stream?: string } = {}): DecodedMessage {
    try {
      switch (kind) {
        case 'data': return this.data(vin, bytes, meta.stream ?? 'data');
        case 'events': return this.event(vin, bytes, meta.seq, meta.stream ?? 'events');
        case 'checkin': return this.checkin(vin, bytes);
        case 'status': return { json: { vin, type: 'status', ...this.convert(vin, Status.toObject(Status.decode(bytes), TO_OBJECT)) } };
        case 'online': return { json: { vin, type: 'presence', ...this.convert(vin, Presence.toObject(Presence.decode(bytes), TO_OBJECT)) } };
        case 'cmd/res': return { json: { vin, type: 'command_response', ...this.convert(vin, CommandResponse.toObject(CommandResponse.decode(bytes), TO_OBJECT)) } };
        case 'rules/ack': return { json: { vin, type: 'rules_ack', ...this.convert(vin, RulesAck.toObject(RulesAck.decode(bytes), TO_OBJECT)) } };
      }
    } catch (err) {
      if (err instanceof MessageError) throw err;
      throw new MessageError(`not a valid ${kind} message: ${(err as Error).message}`);
    }
    throw new MessageError(`no decoder for topic kind ${kind as string}`);
  }

  private checkin(vin: string, bytes: Uint8Array): DecodedMessage {
    const checkin = Checkin.decode(bytes);
    if (checkin.vin !== vin) throw new MessageError(`Checkin.vin "${checkin.vin}" is not the topic's VIN`);
    this.tablesOf(vin).set(checkin.signalTable, checkin.signals as ICheckin['signals'] & ISignalDescriptor[]);
    return { json: { vin, type: 'checkin', ...this.convert(vin, Checkin.toObject(checkin, TO_OBJECT)) } };
  }

  private data(vin: string, bytes: Uint8Array, stream: string): DecodedMessage {
    let decoded;
    try {
      decoded = decodeSampleChunk(bytes);
    } catch (err) {
      if (err instanceof SampleChunkError) throw new MessageError(`not a valid SampleBatch: ${err.message}`);
      throw err;
    }
    // The chunk codec ignores fields it does not need; signal_table comes from the full decoder.
    const { signalTable } = SampleBatch.decode(bytes);
    const { header, columns } = decoded;
    const json: JsonObject = {
      vin,
      type: 'data',
      ...(stream !== 'data' ? { stream } : {}),
      seq: header.firstSeq,
      count: columns.sampleCount,
      priority: Priority[header.priority] ?? header.priority,
    };
    if (header.rule) json.rule = header.rule;
    json.samples = this.samples(vin, signalTable, columns.columnCount, columns.columnSignal, columns.columnEnd, columns.timeMs, columns.raw);
    return { json, seq: { stream, first: header.firstSeq, count: columns.sampleCount } };
  }

  private event(vin: string, bytes: Uint8Array, recordSeq: number | undefined, stream: string): DecodedMessage {
    const event = Event.decode(bytes);
    if (!event.kind) throw new MessageError('Event has no kind (none of its oneof fields is set)');
    const seq = recordSeq ?? event.seq;
    const json: JsonObject = { vin, type: 'event', ...(stream !== 'events' ? { stream } : {}), ...this.convert(vin, Event.toObject(event, TO_OBJECT)) };
    json.seq = seq;
    return { json, seq: seq > 0 ? { stream, first: seq, count: 1 } : undefined };
  }

  private tablesOf(vin: string): SignalTables {
    let tables = this.vehicles.get(vin);
    if (!tables) {
      tables = new SignalTables();
      this.vehicles.set(vin, tables);
    }
    return tables;
  }

  /** Samples in sequence order (column by column) as { signal, unit, time, value }. */
  private samples(
    vin: string, tableId: number, columnCount: number, columnSignal: ArrayLike<number>, columnEnd: ArrayLike<number>,
    timeMs: ArrayLike<number>, raw: ArrayLike<number>,
  ): Json[] {
    const table = this.vehicles.get(vin)?.get(tableId);
    const out: Json[] = [];
    let start = 0;
    for (let c = 0; c < columnCount; c++) {
      const info = table?.get(columnSignal[c]);
      for (let i = start; i < columnEnd[c]; i++) {
        if (info) {
          const value = Number((raw[i] * info.scale + info.offset).toFixed(info.decimals));
          out.push(info.unit ? { signal: info.name, unit: info.unit, time: rfc3339(timeMs[i]), value } : { signal: info.name, time: rfc3339(timeMs[i]), value });
        } else {
          this.undecodedSamples++;
          out.push({ signalId: columnSignal[c], time: rfc3339(timeMs[i]), raw: raw[i] });
        }
      }
      start = columnEnd[c];
    }
    return out;
  }

  /** An event window (SampleBatch as a plain object) as samples. */
  private window(vin: string, batch: ISampleBatch): JsonObject {
    const columns = batch.columns ?? [];
    const signal: number[] = [];
    const end: number[] = [];
    const time: number[] = [];
    const raw: number[] = [];
    for (const column of columns) {
      const dods = column.timeDod ?? [];
      const deltas = column.valueDelta ?? [];
      if (dods.length !== deltas.length) throw new MessageError(`window column ${column.signalId ?? 0} has ${dods.length} times but ${deltas.length} values`);
      let t = batch.baseTimeMs ?? 0;
      let d = 0;
      let v = 0;
      for (let i = 0; i < dods.length; i++) {
        d = i === 0 ? dods[i] : d + dods[i];
        t += d;
        v += deltas[i];
        time.push(t);
        raw.push(v);
      }
      signal.push(column.signalId ?? 0);
      end.push(time.length);
    }
    return { seq: batch.firstSeq ?? 0, count: time.length, samples: this.samples(vin, batch.signalTable ?? 0, columns.length, signal, end, time, raw) };
  }

  /** toObject output -> receiver JSON: epoch times, GeoJSON positions, decoded windows (recursively). */
  private convert(vin: string, value: { [key: string]: unknown }): JsonObject {
    const out: JsonObject = {};
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined || key.startsWith('$')) continue;
      if (key in EPOCH_FIELDS && typeof v === 'number') out[EPOCH_FIELDS[key]] = rfc3339(v);
      else if (POSITION_FIELDS.has(key) && isObject(v)) out[key] = geoJsonPoint(v);
      else if (WINDOW_FIELDS.has(key) && isObject(v)) out[key] = this.window(vin, v as ISampleBatch);
      else out[key] = this.plain(vin, v);
    }
    return out;
  }

  private plain(vin: string, v: unknown): Json {
    if (Array.isArray(v)) return v.map((x) => this.plain(vin, x));
    if (isObject(v)) return this.convert(vin, v);
    if (typeof v === 'number') return shortestFloat32(v);
    return v as Json;
  }
}

/**
 * A float32 field's value printed with the fewest digits that still read back as the same float32
 * (50.1 rather than 50.099998474121094). Other numbers are returned unchanged.
 */
export function shortestFloat32(v: number): number {
  if (Number.isInteger(v) || !Number.isFinite(v) || Math.fround(v) !== v) return v;
  for (let digits = 1; digits < 9; digits++) {
    const shorter = Number(v.toPrecision(digits));
    if (Math.fround(shorter) === v) return shorter;
  }
  return v;
}

function isObject(v: unknown): v is { [key: string]: unknown } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A Position as a GeoJSON Point; its other fields become foreign members (RFC 7946 section 6.1). */
export function geoJsonPoint(p: { [key: string]: unknown }): JsonObject {
  const lon = Number(p.lon ?? 0);
  const lat = Number(p.lat ?? 0);
  const alt = shortestFloat32(Number(p.altM ?? 0));
  const point: JsonObject = { type: 'Point', coordinates: alt ? [lon, lat, alt] : [lon, lat] };
  if (p.headingDeg !== undefined) point.headingDeg = shortestFloat32(Number(p.headingDeg));
  if (p.speedKmh !== undefined) point.speedKmh = shortestFloat32(Number(p.speedKmh));
  if (typeof p.timeMs === 'number') point.time = rfc3339(p.timeMs);
  if (p.source !== undefined) point.source = p.source as Json;
  return point;
}
