/**
 * Message payloads on the wire: protobuf bytes (which message follows from the topic), optionally
 * compressed with raw deflate (RFC 1951), flagged by the MQTT 5 user property
 * `content-encoding: deflate-raw`. No content type property: on roadlink/v1 topics the payload is
 * always protobuf, and the property would cost 27 bytes per message.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { IPublishPacket } from 'mqtt';
import type { DownKind } from './topics.js';

export const ENCODING_PROPERTY = 'content-encoding';
export const DEFLATE_RAW = 'deflate-raw';
/** User property carrying the store sequence number of a record (events): the receiver's gap check. */
export const SEQ_PROPERTY = 'seq';
/**
 * User property naming the store stream of a message whose stream is not the topic's own name (a
 * regular rule with its own stream publishing on `data`): sequence numbers count per stream.
 */
export const STREAM_PROPERTY = 'stream';
/**
 * User property naming the store epoch of a message carrying sequence numbers (data, events): the
 * sequences count within one epoch; a vehicle whose store was replaced starts a new epoch at 1.
 * Receivers treat an absent property as the epoch "".
 */
export const EPOCH_PROPERTY = 'epoch';

/** Largest payload `unpack` will inflate to by default (uplink messages: the backend's receiver). */
export const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

/**
 * Largest downlink payload (backend → vehicle) per kind, plain or once inflated. A command is a few
 * hundred bytes; a rules update is a rule set in JSON. Anything larger is refused before (plain, or
 * deflated bytes above the bound) or while (inflating stops at the bound) it is read.
 */
export const DOWNLINK_MAX_BYTES: Readonly<Record<DownKind, number>> = { 'cmd/req': 8 * 1024, rules: 256 * 1024 };

/** MQTT 5 Maximum Packet Size the vehicle announces: the largest downlink payload plus room for the PUBLISH header, topic and properties. */
export const DOWNLINK_MAX_PACKET_BYTES = Math.max(...Object.values(DOWNLINK_MAX_BYTES)) + 4096;

/** Why a payload was refused: the counters' keys. */
export type PayloadRefusal = 'oversize' | 'inflate_bound' | 'unknown_encoding' | 'bad_deflate';

export class PayloadError extends Error {
  override name = 'PayloadError';
  constructor(
    message: string,
    readonly reason: PayloadRefusal = 'bad_deflate',
  ) {
    super(message);
  }
}

/** Output chunk of the bounded inflate: it stops within one chunk past the bound, whatever the input expands to. */
const INFLATE_CHUNK_BYTES = 4096;

export interface PackedPayload {
  payload: Buffer;
  deflated: boolean;
}

/**
 * Bytes the `content-encoding: deflate-raw` user property adds to a PUBLISH: identifier (1), then
 * key and value as UTF-8 strings with 2-byte lengths.
 */
export const ENCODING_PROPERTY_BYTES = 1 + 2 + ENCODING_PROPERTY.length + 2 + DEFLATE_RAW.length;

/**
 * Compresses when asked and when it pays: the deflated payload plus the property that flags it must
 * be smaller than the plain payload. Otherwise the bytes as they are.
 */
export function pack(bytes: Uint8Array, deflate: boolean): PackedPayload {
  const plain = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (deflate && plain.length > ENCODING_PROPERTY_BYTES) {
    const compressed = deflateRawSync(plain);
    if (compressed.length + ENCODING_PROPERTY_BYTES < plain.length) return { payload: compressed, deflated: true };
  }
  return { payload: plain, deflated: false };
}

type Properties = IPublishPacket['properties'];

/** The user property `name` of a received packet (the first, when repeated). */
export function userProperty(properties: Properties, name: string): string | undefined {
  const value = properties?.userProperties?.[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The protobuf bytes of a received payload, at most `maxBytes` long; throws PayloadError (with its
 * reason) for a payload above the bound, an unknown encoding, bad deflate data, or deflate data that
 * expands beyond the bound. Inflating runs chunk by chunk and stops at the bound: a deflate bomb costs
 * `maxBytes` and one chunk of memory, not what it would expand to.
 */
export function unpack(payload: Buffer, properties: Properties, maxBytes = MAX_INFLATED_BYTES): Buffer {
  if (payload.length > maxBytes) throw new PayloadError(`payload of ${payload.length} bytes, more than the ${maxBytes} allowed`, 'oversize');
  const encoding = userProperty(properties, ENCODING_PROPERTY);
  if (encoding === undefined || encoding === 'identity') return payload;
  if (encoding !== DEFLATE_RAW) throw new PayloadError(`unknown ${ENCODING_PROPERTY} "${encoding}"`, 'unknown_encoding');
  try {
    return inflateRawSync(payload, { maxOutputLength: maxBytes, chunkSize: Math.min(INFLATE_CHUNK_BYTES, Math.max(64, maxBytes)) });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new PayloadError(`${DEFLATE_RAW} payload of ${payload.length} bytes inflates beyond the ${maxBytes} bytes allowed`, 'inflate_bound');
    }
    throw new PayloadError(`bad ${DEFLATE_RAW} payload: ${(err as Error).message}`);
  }
}

/** MQTT 5 publish properties for a packed payload (and a record's seq, a row's stream and epoch), or undefined when none are needed. */
export function publishProperties(packed: PackedPayload, row: { seq?: number; stream?: string; epoch?: string } = {}): Properties {
  if (!packed.deflated && row.seq === undefined && row.stream === undefined && !row.epoch) return undefined;
  const userProperties: Record<string, string> = {};
  if (packed.deflated) userProperties[ENCODING_PROPERTY] = DEFLATE_RAW;
  if (row.seq !== undefined) userProperties[SEQ_PROPERTY] = String(row.seq);
  if (row.stream !== undefined) userProperties[STREAM_PROPERTY] = row.stream;
  if (row.epoch) userProperties[EPOCH_PROPERTY] = row.epoch;
  return { userProperties };
}
