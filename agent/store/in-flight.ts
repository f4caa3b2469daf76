/**
 * Rows handed to the uplink and not yet acknowledged. nextBatch skips them (and acked rows waiting
 * for deletion) through a memory-only temp table, so the skip happens inside SQLite's ordered scan.
 * A row in flight longer than `timeoutMs` becomes sendable again (the uplink normally calls
 * releaseAll() when its connection drops).
 */
import type Database from 'better-sqlite3';

export class InFlightRows {
  /** row id -> time handed out (ms); Map keeps hand-out order, so expiry scans from the front. */
  private readonly sentAt = new Map<number, number>();
  private readonly insertSkip: Database.Statement;
  private readonly deleteSkip: Database.Statement;
  private readonly clearSkip: Database.Statement;

  constructor(db: Database.Database, private readonly timeoutMs: number) {
    this.insertSkip = db.prepare('INSERT OR IGNORE INTO temp.skip (id) VALUES (?)');
    this.deleteSkip = db.prepare('DELETE FROM temp.skip WHERE id = ?');
    this.clearSkip = db.prepare('DELETE FROM temp.skip');
  }

  get size(): number {
    return this.sentAt.size;
  }

  has(id: number): boolean {
    return this.sentAt.has(id);
  }

  markSent(id: number, now: number): void {
    this.sentAt.set(id, now);
    this.insertSkip.run(id);
  }

  /** Acked: no longer in flight, but still skipped until `forget` (after its deletion commits). */
  markAcked(id: number): void {
    this.sentAt.delete(id);
    this.insertSkip.run(id);
  }

  /** The row is gone from the table (deleted or evicted). */
  forget(id: number): void {
    this.sentAt.delete(id);
    this.deleteSkip.run(id);
  }

  /** Makes every row in flight sendable again; rows acked but not yet deleted stay skipped. */
  releaseAll(acked: ReadonlySet<number>): number {
    const n = this.sentAt.size;
    if (acked.size === 0) this.clearSkip.run();
    else for (const id of this.sentAt.keys()) this.deleteSkip.run(id);
    this.sentAt.clear();
    return n;
  }

  /** Releases rows in flight for longer than the timeout; returns how many. */
  releaseExpired(now: number): number {
    let n = 0;
    for (const [id, at] of this.sentAt) {
      if (now - at < this.timeoutMs) break;
      this.sentAt.delete(id);
      this.deleteSkip.run(id);
      n++;
    }
    return n;
  }
}
