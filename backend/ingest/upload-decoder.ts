/**
 * One received MQTT message -> one Upload for the store, or an UploadRejected naming why not
 * (counted per reason by the worker, logged, acked: garbage must not loop). Uses the wire's decoders
 * (payload.ts for deflate, sample-chunk.ts for SampleBatch, the generated protobuf code) and
 * message-json.ts for an event's body (RFC 3339 times, GeoJSON positions, named window samples).
 */
import type { IPublishPacket } from 'mqtt';
import { MessageDecoder, MessageError } from '../message-json.js';
import { PayloadError, SEQ_PROPERTY, STREAM_PROPERTY, unpack, userProperty } from '../../wire/payload.js';
import { decodeSampleChunk, SampleChunkError } from '../../wire/sample-chunk.js';
import { parseTopic, UP_KINDS, type UpKind } from '../../wire/topics.js';
import {
  Checkin, CommandResponse, CommandState, DistanceSource, Event, Ignition, PositionSource, Presence, Priority, RulesAck, Status,
  type IPosition,
} from '../../proto/gen/roadlink.js';
import { EVENT_KINDS, type EventKind, type PositionFix, type TripFields, type Upload, type CommandState as StoredCommandState } from '../db/uploads.js';

/**
 * MQTT 5 user property naming the vehicle store's epoch (new when the store was reset and its
 * sequence numbers restarted); absent on older agents, which is the epoch "".
 */
export const EPOCH_PROPERTY = 'epoch';

export type RejectReason = 'not-uplink-topic' | 'bad-encoding' | 'bad-message' | 'vin-mismatch' | 'refused-by-store';

export class UploadRejected extends Error {
  override name = 'UploadRejected';
  constructor(
    readonly reason: RejectReason,
    message: string,
  ) {
    super(message);
  }
}

/** `PRIORITY_HIGH` -> `HIGH` (the enum's prefix dropped; unknown numbers as digits). */
function enumName(values: Record<string | number, string | number>, value: number | null | undefined, prefix: string): string {
  const name = values[value ?? 0];
  if (typeof name !== 'string') return String(value ?? 0);
  const short = name.startsWith(prefix) ? name.slice(prefix.length) : name;
  return short === 'UNSPECIFIED' ? '' : short;
}

function fix(p: IPosition | null | undefined): PositionFix | undefined {
  if (!p) return undefined;
  return {
    lat: p.lat ?? 0, lon: p.lon ?? 0, altM: p.altM ?? 0, headingDeg: p.headingDeg ?? 0, speedKmh: p.speedKmh ?? 0, timeMs: Number(p.timeMs ?? 0),
    source: enumName(PositionSource as unknown as Record<number, string>, p.source, 'POSITION_SOURCE_'),
  };
}

export class UploadDecoder {
  private readonly messages = new MessageDecoder();

  /** Throws UploadRejected for anything that is not a valid uplink message. */
  decode(packet: Pick<IPublishPacket, 'topic' | 'payload' | 'properties'>): Upload {
    const parsed = parseTopic(packet.topic);
    if (!parsed || !(UP_KINDS as readonly string[]).includes(parsed.kind)) throw new UploadRejected('not-uplink-topic', `${packet.topic} is not a roadlink/v1 uplink topic`);
    const kind = parsed.kind as UpKind;
    const vin = parsed.vin;
    let bytes: Buffer;
    try {
      bytes = unpack(packet.payload as Buffer, packet.properties);
    } catch (err) {
      if (err instanceof PayloadError) throw new UploadRejected('bad-encoding', err.message);
      throw err;
    }
    const meta = {
      epoch: userProperty(packet.properties, EPOCH_PROPERTY) ?? '',
      stream: userProperty(packet.properties, STREAM_PROPERTY),
      seq: userProperty(packet.properties, SEQ_PROPERTY),
    };
    try {
      return this.decodeKind(vin, kind, bytes, meta);
    } catch (err) {
      if (err instanceof UploadRejected) throw err;
      if (err instanceof MessageError || err instanceof SampleChunkError || err instanceof Error) {
        throw new UploadRejected('bad-message', `not a valid ${kind} message: ${err.message}`);
      }
      throw err;
    }
  }

  private decodeKind(vin: string, kind: UpKind, bytes: Buffer, meta: { epoch: string; stream?: string; seq?: string }): Upload {
    switch (kind) {
      case 'data': {
        const { header, columns } = decodeSampleChunk(bytes);
        return { kind: 'samples', vin, epoch: meta.epoch, stream: meta.stream ?? 'data', firstSeq: header.firstSeq, signalTable: header.signalTable ?? 0, rule: header.rule, columns };
      }
      case 'events': return this.event(vin, bytes, meta);
      case 'checkin': {
        const c = Checkin.decode(bytes);
        if (c.vin !== vin) throw new UploadRejected('vin-mismatch', `Checkin.vin "${c.vin}" is not the topic's VIN ${vin}`);
        this.messages.decode(vin, 'checkin', bytes); // the signal table names window samples of later events
        return {
          kind: 'checkin', vin, brand: c.brand, model: c.model, fuelType: c.fuelType, modelYear: c.modelYear, agentVersion: c.agentVersion,
          configVersion: c.configVersion, rulesVersion: c.rulesVersion, capabilities: [...c.capabilities], bootId: c.bootId, timeMs: Number(c.timeMs),
          signalTable: c.signalTable >>> 0,
          signals: c.signals.map((s) => ({ id: s.id ?? 0, name: s.name ?? '', unit: s.unit ?? '', scale: s.scale || 1, offset: s.offset ?? 0 })),
        };
      }
      case 'online': {
        const p = Presence.decode(bytes);
        return { kind: 'presence', vin, online: p.online, sinceMs: Number(p.sinceMs), bootId: p.bootId, reason: p.reason };
      }
      case 'status': {
        const s = Status.decode(bytes);
        return {
          kind: 'status', vin, timeMs: Number(s.timeMs), position: fix(s.position), speedKmh: s.speedKmh, fuelLevelPct: s.fuelLevelPct,
          batterySocPct: s.batterySocPct, rangeKm: s.rangeKm, odometerKm: s.odometerKm,
          ignition: enumName(Ignition as unknown as Record<number, string>, s.ignition, 'IGNITION_'),
          doors: s.doors.map((d) => ({ name: d.name ?? '', open: Boolean(d.open), locked: Boolean(d.locked) })), locked: s.locked, seq: Number(s.seq),
        };
      }
      case 'cmd/res': {
        const r = CommandResponse.decode(bytes);
        if (!r.id) throw new UploadRejected('bad-message', 'CommandResponse without an id');
        const state = (enumName(CommandState as unknown as Record<number, string>, r.state, 'COMMAND_STATE_') || 'UNSPECIFIED') as StoredCommandState;
        return { kind: 'command-response', vin, commandId: r.id, state, reason: r.reason, detail: r.detail, timeMs: Number(r.timeMs) };
      }
      case 'rules/ack': {
        const a = RulesAck.decode(bytes);
        return { kind: 'rules-ack', vin, version: a.version, accepted: a.accepted, error: a.error, activeVersion: a.activeVersion };
      }
    }
    throw new UploadRejected('not-uplink-topic', `no decoder for topic kind ${kind as string}`);
  }

  private event(vin: string, bytes: Buffer, meta: { epoch: string; stream?: string; seq?: string }): Upload {
    const recordSeq = meta.seq !== undefined && /^\d+$/.test(meta.seq) ? Number(meta.seq) : undefined;
    const { json } = this.messages.decode(vin, 'events', bytes, { seq: recordSeq, stream: meta.stream });
    const event = Event.decode(bytes);
    // protobufjs names the oneof member in camelCase (ruleTrigger); the store uses the proto name (rule_trigger).
    const member = String(event.kind);
    const eventKind = member.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) as EventKind;
    if (!(EVENT_KINDS as readonly string[]).includes(eventKind)) throw new UploadRejected('bad-message', `unknown event kind ${member}`);
    const detail = (json[member] ?? {}) as Record<string, unknown>;
    const body = (event as unknown as Record<string, { monitorId?: string; position?: IPosition } | undefined>)[member];
    const t = event.trip;
    const trip: TripFields | undefined = t
      ? {
          tripId: t.tripId ?? '', departureMs: Number(t.departureMs ?? 0), arrivalMs: Number(t.arrivalMs ?? 0), departure: fix(t.departure), arrival: fix(t.arrival),
          distanceKm: t.distanceKm ?? 0, distanceSource: enumName(DistanceSource as unknown as Record<number, string>, t.distanceSource, 'DISTANCE_SOURCE_'),
          durationS: t.durationS ?? 0, maxSpeedKmh: t.maxSpeedKmh ?? 0, avgSpeedKmh: t.avgSpeedKmh ?? 0, fuelUsedL: t.fuelUsedL ?? 0, energyUsedKwh: t.energyUsedKwh ?? 0,
        }
      : undefined;
    return {
      kind: 'event', vin, epoch: meta.epoch, stream: meta.stream ?? 'events', seq: recordSeq ?? Number(event.seq), timeMs: Number(event.timeMs),
      priority: enumName(Priority as unknown as Record<number, string>, event.priority, 'PRIORITY_'), eventKind, detail,
      ...(body?.monitorId ? { monitorId: body.monitorId } : {}),
      ...(body?.position ? { position: fix(body.position) } : {}),
      ...(trip ? { trip } : {}),
    };
  }
}
