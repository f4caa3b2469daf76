/**
 * The upload batching window: sample rows fetched from the store wait here until the oldest has
 * waited `windowMs` since its samples were taken, or until their bytes could fill a message, or
 * until the caller flushes them. Then they leave as groups, each one data message: consecutive rows
 * of one stream and priority whose seq ranges follow each other, at most `maxBytes` of row bytes.
 *
 * A row's age counts from its first sample's time (StoredRow.timeUs, kept in the store), clamped
 * to the uplink's clock: a backlog older than the window (hours offline, a reconnect) leaves at once
 * instead of waiting a window more, and no row waits longer than `windowMs` after it was fetched, so
 * samples stamped in the future (a replay ahead of the clock, a clock set back) wait at most one
 * window, as if they had just been taken.
 *
 * Trade-off: telemetry reaches the backend up to `windowMs` after it was sampled, in exchange for
 * fewer and fuller messages (fixed MQTT/property overhead and column headers paid once per window
 * instead of once per store commit, better deflate ratios) and fewer radio wake-ups. Held rows stay
 * in the store (marked in flight there) until their message is PUBACKed, so holding loses nothing.
 */
import type { StoredRow } from '../store/store.js';

export class BatchWindow {
  private readonly held = new Map<number, StoredRow>();
  private oldestMs = Infinity;
  private bytes = 0;

  constructor(
    private readonly windowMs: number,
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.held.size;
  }

  has(rowId: number): boolean {
    return this.held.has(rowId);
  }

  hold(row: StoredRow, nowMs: number): void {
    this.held.set(row.rowId, row);
    this.bytes += row.bytes.length;
    const since = heldSinceMs(row.timeUs / 1000, nowMs, this.windowMs);
    if (since < this.oldestMs) this.oldestMs = since;
  }

  /** The held rows should go now: the window has passed or they would fill a message. */
  due(nowMs: number): boolean {
    return this.held.size > 0 && (nowMs - this.oldestMs >= this.windowMs || this.bytes >= this.maxBytes);
  }

  /** Milliseconds until the window of the oldest held row ends (Infinity when nothing is held). */
  remainingMs(nowMs: number): number {
    return this.held.size === 0 ? Infinity : Math.max(0, this.oldestMs + this.windowMs - nowMs);
  }

  /** Every held row, as message groups in send order (priority desc, then row id); empties the window. */
  take(): StoredRow[][] {
    const rows = [...this.held.values()].sort((a, b) => b.priority - a.priority || a.rowId - b.rowId);
    this.clear();
    const groups: StoredRow[][] = [];
    const open = new Map<string, { rows: StoredRow[]; bytes: number }>();
    for (const row of rows) {
      const key = `${row.priority}\u0000${row.stream}`;
      const group = open.get(key);
      const last = group?.rows[group.rows.length - 1];
      if (group && last!.firstSeq + last!.count === row.firstSeq && group.bytes + row.bytes.length <= this.maxBytes) {
        group.rows.push(row);
        group.bytes += row.bytes.length;
      } else {
        const next = { rows: [row], bytes: row.bytes.length };
        open.set(key, next);
        groups.push(next.rows);
      }
    }
    return groups;
  }

  /** Forgets every held row (the store hands them out again); returns how many there were. */
  clear(): number {
    const n = this.held.size;
    this.held.clear();
    this.oldestMs = Infinity;
    this.bytes = 0;
    return n;
  }
}

/**
 * When a row's window starts: its samples' time, but not before `windowMs` ago (older is due now)
 * and not after now (a time in the future counts as now).
 */
export function heldSinceMs(sampleMs: number, nowMs: number, windowMs: number): number {
  if (!Number.isFinite(sampleMs)) return nowMs;
  return Math.min(nowMs, Math.max(sampleMs, nowMs - windowMs));
}
