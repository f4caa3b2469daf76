/** Test helper: decode single frames through the real Decoder and read the samples back by name. */
import { createFrameBatch, FrameFlag, pushFrame } from '../../drivers/can/frame-batch.js';
import type { DbcDatabase, DbcMessage } from '../../agent/decode/dbc-types.js';
import { Decoder } from '../../agent/decode/decoder.js';
import { createSampleBatch } from '../../agent/decode/sample-batch.js';

export interface Decoded {
  values: Map<string, number>;
  /** Signal names in sample order. */
  order: string[];
  messageIndex: number;
  status: number;
}

export function decodeFrame(decoder: Decoder, frame: { bus?: string; id: number; extended?: boolean; data: Uint8Array | number[]; flags?: number }): Decoded {
  const batch = createFrameBatch(1);
  pushFrame(batch, { bus: frame.bus ?? 'can0', id: frame.id, data: frame.data, flags: (frame.flags ?? 0) | (frame.extended ? FrameFlag.EXTENDED : 0), timeUs: 1 });
  const samples = createSampleBatch(4);
  decoder.decode(batch, samples);
  const values = new Map<string, number>();
  const order: string[] = [];
  for (let k = 0; k < samples.count; k++) {
    const name = decoder.signals[samples.signal[k]].name;
    values.set(name, samples.value[k]);
    order.push(name);
  }
  return { values, order, messageIndex: decoder.frameMessage[0], status: decoder.frameStatus[0] };
}

/** Decodes a payload as `message` of `db` (a decoder over that one database). */
export function decodeMessage(db: DbcDatabase, message: DbcMessage, data: Uint8Array | number[]): Decoded {
  return decodeFrame(new Decoder([{ bus: '*', databases: [db] }]), { id: message.id, extended: message.extended, data });
}

export function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

/** Deterministic pseudo-random numbers in [0, 1) (a fixed seed keeps failures reproducible). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

/** `count` random bytes. */
export function randomBytes(rand: () => number, count: number): Uint8Array {
  return Uint8Array.from({ length: count }, () => Math.floor(rand() * 256));
}
