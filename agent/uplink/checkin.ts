/**
 * The Checkin the uplink publishes (retained) after every connect, and the id of its signal table.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Checkin, SignalDescriptor, type ICheckin, type ISignalDescriptor } from '../../proto/gen/roadlink.js';

/**
 * 32-bit id of a signal table (Checkin.signal_table, SampleBatch.signal_table): the first four bytes
 * of the SHA-256 of the encoded descriptors, never 0 (0 means "not stated").
 */
export function signalTableId(signals: readonly ISignalDescriptor[]): number {
  const hash = createHash('sha256');
  for (const s of signals) hash.update(SignalDescriptor.encodeDelimited(s).finish());
  return hash.digest().readUInt32BE(0) || 1;
}

/** A fresh boot id (one per agent start). */
export function newBootId(): string {
  return randomUUID();
}

/** The Checkin bytes: the caller's fields, plus vin, boot id, time and signal table id when missing. */
export function encodeCheckin(fields: ICheckin, vin: string, bootId: string, nowMs: number): Uint8Array {
  const signals = fields.signals ?? [];
  return Checkin.encode({
    ...fields,
    vin,
    bootId: fields.bootId || bootId,
    timeMs: fields.timeMs || nowMs,
    signalTable: fields.signalTable || (signals.length > 0 ? signalTableId(signals) : 0),
  }).finish();
}
