/**
 * Kernel receive filters (CAN_RAW_FILTER) for the IDs a bus's DBCs define.
 *
 * A filter passes a frame when (frame can_id & mask) == (filter id & mask), where can_id carries the
 * CAN_EFF_FLAG for 29-bit frames. Each mask therefore includes CAN_EFF_FLAG, so that an 11-bit ID
 * never matches the 29-bit frame with the same number (and the other way round). Remote requests
 * (CAN_RTR_FLAG) are not masked: they pass like data frames of the same ID. Error frames are not
 * subject to these filters (the error mask governs them).
 *
 * The kernel takes at most CAN_RAW_FILTER_MAX (512) filters per socket. Beyond that, IDs are merged
 * into masked groups by ignoring low ID bits (one bit more each round, on the larger of the 11-bit
 * and 29-bit sets) until the filters fit: the kernel then passes a superset, and the plan says it
 * is not exact so that the driver drops the extra frames itself.
 */
import { FRAME_STRIDE, FrameFlag, type FrameBatch } from '../can/frame-batch.js';

export const CAN_EFF_FLAG = 0x80000000;
export const CAN_SFF_MASK = 0x000007ff;
export const CAN_EFF_MASK = 0x1fffffff;
/** Kernel limit on filters per CAN_RAW socket (linux/can/raw.h). */
export const CAN_RAW_FILTER_MAX = 512;

/** A message ID to receive. */
export interface RxId {
  id: number;
  /** 29-bit identifier. */
  extended: boolean;
}

/** A filter in the form the socketcan addon's setRxFilters() takes (unsigned 32-bit numbers). */
export interface CanFilter {
  id: number;
  mask: number;
}

export interface RxFilterPlan {
  /** Empty: no filter at all, every frame is received. */
  filters: CanFilter[];
  /** False when IDs were merged into groups: the kernel also passes IDs not asked for. */
  exact: boolean;
}

/** Kernel filters for `ids`; an empty list means "receive everything" (no filter). */
export function buildRxFilters(ids: readonly RxId[], maxFilters = CAN_RAW_FILTER_MAX): RxFilterPlan {
  if (maxFilters < 2) throw new Error(`maxFilters must be at least 2, got ${maxFilters}`);
  const standard = new Set<number>();
  const extended = new Set<number>();
  for (const { id, extended: ext } of ids) {
    const limit = ext ? CAN_EFF_MASK : CAN_SFF_MASK;
    if (!Number.isInteger(id) || id < 0 || id > limit) {
      throw new Error(`CAN ID ${id} (0x${id.toString(16)}) is out of range for a ${ext ? '29' : '11'}-bit identifier`);
    }
    (ext ? extended : standard).add(id);
  }
  if (standard.size + extended.size === 0) return { filters: [], exact: true };

  let stdDropped = 0;
  let extDropped = 0;
  let std = groups(standard, stdDropped);
  let ext = groups(extended, extDropped);
  while (std.size + ext.size > maxFilters) {
    if (std.size >= ext.size) std = groups(standard, ++stdDropped);
    else ext = groups(extended, ++extDropped);
  }
  const stdMask = (CAN_SFF_MASK & ~lowBits(stdDropped)) >>> 0;
  const extMask = (CAN_EFF_MASK & ~lowBits(extDropped)) >>> 0;
  const filters: CanFilter[] = [];
  for (const id of [...std].sort((a, b) => a - b)) filters.push({ id, mask: (stdMask | CAN_EFF_FLAG) >>> 0 });
  for (const id of [...ext].sort((a, b) => a - b)) filters.push({ id: (id | CAN_EFF_FLAG) >>> 0, mask: (extMask | CAN_EFF_FLAG) >>> 0 });
  return { filters, exact: stdDropped === 0 && extDropped === 0 };
}

/** Whether a frame passes a filter, computed as the kernel does (for tests and the vcan checks). */
export function filterPasses(filter: CanFilter, id: number, extended: boolean): boolean {
  const canId = extended ? (id | CAN_EFF_FLAG) >>> 0 : id;
  return ((canId & filter.mask) >>> 0) === ((filter.id & filter.mask) >>> 0);
}

function lowBits(n: number): number {
  return n >= 32 ? 0xffffffff : (2 ** n - 1) >>> 0;
}

/** The distinct IDs once their `dropped` low bits are ignored. */
function groups(ids: Set<number>, dropped: number): Set<number> {
  if (dropped === 0) return ids;
  const keep = ~lowBits(dropped) >>> 0;
  const out = new Set<number>();
  for (const id of ids) out.add((id & keep) >>> 0);
  return out;
}

/** Key of an ID in the set of wanted IDs: 29-bit IDs are offset by 2^29, so they never meet 11-bit ones. */
export function wantedKey(id: number, extended: boolean): number {
  return extended ? id + 0x20000000 : id;
}

/**
 * Removes the frames at [from, batch.count) whose ID is not in `wanted` (keys of wantedKey), for
 * filters that pass more than asked for; error frames stay. Returns the new count (not stored).
 */
export function dropUnwanted(batch: FrameBatch, from: number, wanted: ReadonlySet<number>): number {
  const { id, len, flags, bus, timeUs, data } = batch;
  let out = from;
  for (let i = from; i < batch.count; i++) {
    const f = flags[i];
    if (!(f & FrameFlag.ERROR) && !wanted.has(wantedKey(id[i], (f & FrameFlag.EXTENDED) !== 0))) continue;
    if (out !== i) {
      id[out] = id[i];
      len[out] = len[i];
      flags[out] = f;
      bus[out] = bus[i];
      timeUs[out] = timeUs[i];
      data.copyWithin(out * FRAME_STRIDE, i * FRAME_STRIDE, i * FRAME_STRIDE + len[i]);
    }
    out++;
  }
  return out;
}
