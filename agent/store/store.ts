/**
 * Store-and-forward buffer: samples and records wait in SQLite until the broker acknowledged them.
 *
 * Design
 * - Chunks, not rows per sample. appendSample puts the sample (signal id, ms time, integer value on
 *   the signal's grid) into an in-memory struct-of-arrays buffer per (stream, priority). A commit turns
 *   each non-empty buffer into ONE row whose blob is a `roadlink.v1.SampleBatch` (sample-chunk.ts),
 *   so the uplink sends it as-is and a periodic unchanged signal costs ~2 bytes. That, and one
 *   transaction per commit, is what keeps disk writes near 10 bytes per sample instead of ~100.
 * - Commits happen every `commitIntervalMs` (timer) or when `commitMaxSamples` samples are pending,
 *   and on flush()/close(). One transaction per commit carries: new chunk rows, queued records,
 *   deletions of acked rows, the stream sequence counters, quota evictions and their counters.
 *   Nothing in memory changes until that transaction succeeded; a failed commit (disk full, I/O
 *   error) keeps everything pending, is counted and reported through onError, and is retried by the
 *   next timer tick. Only if commits keep failing and `maxPendingSamples` is reached are new samples
 *   dropped, counted as droppedSamples.
 * - Sequence numbers: per stream, shared by its samples and records, monotonically increasing across
 *   restarts. A chunk row covers first_seq .. first_seq + count - 1 (sample order inside the chunk is
 *   column order, see sample-chunk.ts); a record takes one seq when appended. The counter is committed
 *   in the same transaction as the rows, so seqs are gap-free for what was committed; seqs handed out
 *   for records that died uncommitted in a crash are reused (they were never stored nor sent).
 * - Durability: WAL mode. With synchronous=NORMAL (default) a commit is in the WAL (in the OS) when
 *   flush() returns: it survives kill -9 and agent crashes; a power cut may roll back the commits
 *   since the last checkpoint fsync, but never corrupts the file. With synchronous=FULL the WAL is
 *   fsynced at every commit: a returned flush() also survives power loss, at the cost of one fsync
 *   per commit (measured in test/bench/store.ts).
 * - Samples not yet committed are in memory only: a crash loses at most one commit interval.
 *   Records with priority CRITICAL commit at once.
 * - Bounded: `quotaBytes` caps blob bytes + ROW_OVERHEAD_BYTES per row. After inserting, a commit
 *   evicts whole rows, lowest priority first and oldest (lowest row id) first within a priority, until
 *   under quota: CRITICAL rows go only when nothing of lower priority is left. Evicted samples,
 *   records and rows are counted (persisted), reported by stats() and the onEvict callback.
 *   Freed pages are reused, so the file stays near the quota without VACUUM.
 * - Flash: one transaction per commit, and each commit touches as few pages as possible:
 *   row ids are `priority * 2^48 + n` (schema.ts), so the table's own b-tree is ordered by priority
 *   then age and there is no index to update; the stream counters are written only by commits that
 *   delete rows (otherwise they are recovered from the rows at open); acks are deleted by the next
 *   commit rather than in their own transaction; in-flight bookkeeping is in a memory-only temp
 *   table; new files use 1 KiB pages, because what a small commit rewrites (the leaf holding its row,
 *   the last partly filled overflow page) is whole pages. Measured (test/bench/store.ts), a commit
 *   of 200 samples writes ~4.5 KB with 1 KiB pages against ~6.7 KB with 4 KiB pages, and at 2,000
 *   samples per commit the total is ~6 bytes per sample, WAL and checkpoints included.
 * - Uplink reading: nextBatch() returns committed rows by priority (desc) then row id (asc, which is
 *   seq order within a stream), skipping rows in flight and acked rows. ack() makes rows disappear
 *   for nextBatch at once and deletes them in the next commit (a crash in between re-sends them:
 *   delivery is at-least-once, the receiver dedups by stream and seq). releaseInFlight() makes
 *   unacked rows sendable again; rows in flight longer than `inFlightTimeoutMs` are released too.
 * - The store is single-process: one Store per file (sequence counters live in memory too).
 * - Corrupt files: open() throws StoreOpenError naming the file and reason; openOrRecover()
 *   (open-or-recover.ts) moves a corrupt file aside and starts empty, trading the unreadable backlog
 *   for an agent that keeps recording.
 */
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { InFlightRows } from './in-flight.js';
import { PendingSamples } from './pending-samples.js';
import { MAX_RAW, SampleChunkEncoder } from '../../wire/sample-chunk.js';
import { applySettings, createSkipTable, ensureSchema, ROW_ID_SPAN, ROW_OVERHEAD_BYTES, RowKind, storeEpoch, type Synchronous } from './schema.js';
import { SignalGrids, type SignalGridLookup } from './signal-grids.js';
import { isCorruptionCode, StoreOpenError } from './store-errors.js';
import { Priority } from '../../wire/priority.js';

export { StoreOpenError } from './store-errors.js';
export type { SignalGrid, SignalGridLookup } from './signal-grids.js';
export type { Synchronous } from './schema.js';


/** Highest priority number the store accepts (priorities index small per-stream tables). */
export const MAX_PRIORITY = 15;

export interface EvictionReport {
  rows: number;
  samples: number;
  records: number;
  bytes: number;
  /** Highest priority among the evicted rows. */
  maxPriority: number;
}

export interface CommitReport {
  /** Rows inserted by the commit. */
  rows: number;
  samples: number;
  records: number;
}

export interface StoreOptions {
  path: string;
  /** Commit at least this often while something is pending. Default 1000. */
  commitIntervalMs?: number;
  /** Commit as soon as this many samples are pending. Default 50,000. */
  commitMaxSamples?: number;
  /** Samples kept in memory while commits fail; beyond, new samples are dropped (counted). Default 8 x commitMaxSamples. */
  maxPendingSamples?: number;
  /** Stored bytes (blobs + per-row overhead) above which the oldest lowest-priority rows are evicted. Default 64 MiB. */
  quotaBytes?: number;
  /** NORMAL (default): commits survive process crashes. FULL: also power loss, one fsync per commit. */
  synchronous?: Synchronous;
  /** SQLite page size of a new file. Default 1024: see the design notes. */
  pageSize?: number;
  /** WAL bytes after which a commit checkpoints into the main file. Default 4 MiB. */
  walAutocheckpointBytes?: number;
  /** Rows in flight longer than this become sendable again. Default 60,000. */
  inFlightTimeoutMs?: number;
  /** Run PRAGMA quick_check when opening (reads the whole file). Default true. */
  checkOnOpen?: boolean;
  signalGrid: SignalGridLookup;
  /** Checkin.signal_table that signalGrid belongs to, written into every chunk (0 = not stated). */
  signalTable?: number;
  /** Called after a commit that evicted rows. Default: a warning on stderr. */
  onEvict?: (report: EvictionReport) => void;
  /** Called after every successful commit (the uplink may wake up and call nextBatch). */
  onCommit?: (committed: CommitReport) => void;
  /** Commit failures, rejected samples and other problems that do not stop the store. */
  onError?: (err: Error) => void;
}

export interface StoredRow {
  rowId: number;
  stream: string;
  priority: number;
  kind: 'samples' | 'record';
  /** First sequence number; the row covers firstSeq .. firstSeq + count - 1. */
  firstSeq: number;
  count: number;
  /** Time of the row's first sample (or the record's time), microseconds since the epoch. */
  timeUs: number;
  /** A SampleBatch (kind 'samples') or the record's bytes. */
  bytes: Uint8Array;
}

export interface StoreStats {
  pendingSamples: number;
  pendingRecords: number;
  storedRows: number;
  storedSamples: number;
  storedRecords: number;
  /** Blob bytes + ROW_OVERHEAD_BYTES per row: what the quota limits. */
  storedBytes: number;
  quotaBytes: number;
  /** Size of the database file plus its WAL. */
  fileBytes: number;
  inFlightRows: number;
  evictedRows: number;
  evictedSamples: number;
  evictedRecords: number;
  /** Samples refused by appendSample: non-finite value/time, unusable grid, |raw| > 2^52, bad signal id or priority. */
  rejectedSamples: number;
  /** Samples not kept because commits kept failing and maxPendingSamples was reached. */
  droppedSamples: number;
  commits: number;
  commitErrors: number;
  /** Wall time (ms) since which something has been waiting for a commit; 0 when nothing is pending. */
  pendingSinceMs: number;
  /** Times a corrupt file at this path was moved aside (kept .corrupt-* files). */
  recoveries: number;
}

interface StreamState {
  /** 0 until the stream's row in `streams` is committed. */
  id: number;
  name: string;
  nextSeq: number;
  /** Pending samples, indexed by priority. */
  buffers: (PendingSamples | undefined)[];
}

interface PendingRecord {
  stream: StreamState;
  priority: number;
  seq: number;
  timeUs: number;
  bytes: Uint8Array;
}

interface RowTotals {
  rows: number;
  samples: number;
  records: number;
  bytes: number;
}

/** Why appendSample refused a sample. */
const Rejection = { BAD_PRIORITY: 1, BAD_SIGNAL_ID: 2, NOT_FINITE: 3, NO_GRID: 4, OUT_OF_RANGE: 5 } as const;

/** Persisted counters (table `counters`). */
const COUNTER_NAMES = ['evictedRows', 'evictedSamples', 'evictedRecords', 'recoveries'] as const;
type CounterName = (typeof COUNTER_NAMES)[number];

export class Store {
  readonly path: string;
  /**
   * The store epoch: a random id made with the file, the same across restarts, new for a new file
   * (schema.ts EPOCH_KEY). The uplink sends it with every message that carries sequence numbers.
   */
  readonly epoch: string;
  private readonly db: Database.Database;
  private readonly encoder = new SampleChunkEncoder();
  private readonly grids: SignalGrids;
  private signalTable: number;
  private readonly inFlight: InFlightRows;
  private readonly streams = new Map<string, StreamState>();
  private readonly streamsById = new Map<number, StreamState>();
  private readonly activeBuffers: { stream: StreamState; priority: number; buffer: PendingSamples }[] = [];
  private pendingRecords: PendingRecord[] = [];
  /** Acked row ids, deleted at the next commit. */
  private readonly acked = new Set<number>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  // Hot-path cache: the buffer of the last (stream, priority) appended to.
  private lastStream = '';
  private lastPriority = -1;
  private lastBuffer: PendingSamples | undefined;

  private pendingSamples = 0;
  /** See StoreStats.pendingSinceMs. */
  private pendingSinceMs = 0;
  private commitFailing = false;
  private rejectedSinceReport = 0;

  private readonly commitMaxSamples: number;
  private readonly maxPendingSamples: number;
  private readonly quotaBytes: number;
  private readonly onEvict: (report: EvictionReport) => void;
  private readonly onCommit?: (committed: CommitReport) => void;
  private readonly onError: (err: Error) => void;

  /** Rows/samples/records/bytes stored per priority (index), kept in step with the table. */
  private readonly totals: RowTotals[] = [];
  private readonly counters: Record<CounterName, number> = { evictedRows: 0, evictedSamples: 0, evictedRecords: 0, recoveries: 0 };
  private rejectedSamples = 0;
  private droppedSamples = 0;
  private commits = 0;
  /** n of the next row id (see ROW_ID_SPAN). */
  private nextRowNumber = 1;
  private commitErrors = 0;

  private readonly stmt: {
    insertRow: Database.Statement;
    insertStream: Database.Statement;
    maxIdBetween: Database.Statement;
    updateStream: Database.Statement;
    deleteRow: Database.Statement;
    evictionCandidates: Database.Statement;
    nextRows: Database.Statement;
    putCounter: Database.Statement;
    putState: Database.Statement;
    getState: Database.Statement;
    deleteState: Database.Statement;
    statesWithPrefix: Database.Statement;
  };

  /** Opens (or creates) the store; throws StoreOpenError naming the file and the reason. */
  static open(options: StoreOptions): Store {
    let db: Database.Database | undefined;
    try {
      db = new Database(options.path);
      const pageSize = options.pageSize ?? 1024;
      applySettings(db, {
        synchronous: options.synchronous ?? 'NORMAL',
        pageSize,
        walAutocheckpointPages: (options.walAutocheckpointBytes ?? 4 * 1024 * 1024) / pageSize,
      });
      if (options.checkOnOpen ?? true) {
        const problems = (db.pragma('quick_check') as { quick_check: string }[]).map((r) => r.quick_check);
        if (problems.length !== 1 || problems[0] !== 'ok') {
          const detail = problems.slice(0, 3).join('; ');
          throw Object.assign(new Error(`quick_check failed: ${detail}`), { code: 'SQLITE_CORRUPT' });
        }
      }
      ensureSchema(db);
      createSkipTable(db);
      return new Store(db, options);
    } catch (err) {
      db?.close();
      if (err instanceof StoreOpenError) throw err;
      const e = err as Error & { code?: unknown };
      const reason = e.code && !e.message.includes(String(e.code)) ? `${e.message} (${String(e.code)})` : e.message;
      throw new StoreOpenError(options.path, reason, isCorruptionCode(e.code), { cause: err });
    }
  }

  private constructor(db: Database.Database, options: StoreOptions) {
    this.db = db;
    this.path = options.path;
    this.epoch = storeEpoch(db);
    this.grids = new SignalGrids(options.signalGrid);
    this.signalTable = options.signalTable ?? 0;
    this.commitMaxSamples = Math.max(1, options.commitMaxSamples ?? 50_000);
    this.maxPendingSamples = Math.max(this.commitMaxSamples, options.maxPendingSamples ?? 8 * this.commitMaxSamples);
    this.quotaBytes = options.quotaBytes ?? 64 * 1024 * 1024;
    this.onEvict =
      options.onEvict ??
      ((r) => console.warn(`roadlink store ${this.path}: over quota, evicted ${r.rows} rows (${r.samples} samples, ${r.records} records) of priority <= ${r.maxPriority}`));
    this.onCommit = options.onCommit;
    this.onError = options.onError ?? ((err) => console.error(`roadlink store ${this.path}: ${err.message}`));
    this.inFlight = new InFlightRows(db, options.inFlightTimeoutMs ?? 60_000);
    this.stmt = {
      insertRow: db.prepare(
        'INSERT INTO rows (id, stream, priority, kind, first_seq, count, time_us, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      maxIdBetween: db.prepare('SELECT max(id) AS id FROM rows WHERE id >= ? AND id < ?'),
      insertStream: db.prepare('INSERT INTO streams (name, next_seq) VALUES (?, ?)'),
      updateStream: db.prepare('UPDATE streams SET next_seq = ? WHERE id = ?'),
      deleteRow: db.prepare('DELETE FROM rows WHERE id = ? RETURNING priority, kind, count, length(bytes) AS size'),
      evictionCandidates: db.prepare(
        'SELECT id, kind, count, length(bytes) AS size FROM rows WHERE id >= ? AND id < ? ORDER BY id LIMIT 256',
      ),
      nextRows: db.prepare(
        `SELECT id, stream, priority, kind, first_seq, count, time_us, bytes FROM rows
         WHERE id >= ? AND id < ? AND id NOT IN (SELECT id FROM temp.skip) ORDER BY id LIMIT ?`,
      ),
      putCounter: db.prepare('INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)'),
      putState: db.prepare('INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)'),
      getState: db.prepare('SELECT value FROM state WHERE key = ?'),
      deleteState: db.prepare('DELETE FROM state WHERE key = ?'),
      statesWithPrefix: db.prepare('SELECT key, value FROM state WHERE substr(key, 1, length(@prefix)) = @prefix'),
    };
    this.loadStreams();
    this.loadTotals();
    this.loadCounters();
    this.timer = setInterval(() => this.flushReporting(), Math.max(1, options.commitIntervalMs ?? 1000));
    this.timer.unref();
  }

  // --- writing -----------------------------------------------------------------------------------

  /** Hot path: buffers one sample (no allocation once the buffer for (stream, priority) exists). */
  appendSample(stream: string, priority: number, signalId: number, timeUs: number, value: number): void {
    let buffer = this.lastBuffer;
    if (stream !== this.lastStream || priority !== this.lastPriority || buffer === undefined) {
      buffer = this.bufferFor(stream, priority);
      if (buffer === undefined) {
        this.reject(Rejection.BAD_PRIORITY, signalId, priority, timeUs);
        return;
      }
    }
    if (signalId >>> 0 !== signalId) {
      this.reject(Rejection.BAD_SIGNAL_ID, signalId, value, timeUs);
      return;
    }
    if (!Number.isFinite(value) || !Number.isFinite(timeUs)) {
      this.reject(Rejection.NOT_FINITE, signalId, value, timeUs);
      return;
    }
    const raw = this.grids.toRaw(signalId, value);
    if (!(raw >= -MAX_RAW && raw <= MAX_RAW)) {
      this.reject(raw !== raw ? Rejection.NO_GRID : Rejection.OUT_OF_RANGE, signalId, value, timeUs);
      return;
    }
    if (this.pendingSamples >= this.maxPendingSamples) {
      this.droppedSamples++;
      return;
    }
    if (this.pendingSinceMs === 0) this.pendingSinceMs = Date.now();
    buffer.push(signalId, timeUs, raw);
    if (++this.pendingSamples >= this.commitMaxSamples && !this.commitFailing) this.flushReporting();
  }

  /**
   * Queues an opaque record (event, status...) and returns its sequence number in `stream`.
   * It is committed with the next commit; CRITICAL records commit at once.
   */
  appendRecord(stream: string, priority: number, timeUs: number, bytes: Uint8Array): number {
    if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
      throw new RangeError(`record priority ${priority} is not an integer in 0..${MAX_PRIORITY}`);
    }
    if (!Number.isFinite(timeUs)) throw new RangeError(`record time ${timeUs} is not finite`);
    const state = this.streamFor(stream);
    const seq = state.nextSeq++;
    if (this.pendingSinceMs === 0) this.pendingSinceMs = Date.now();
    this.pendingRecords.push({ stream: state, priority, seq, timeUs: Math.round(timeUs), bytes: Buffer.from(bytes) });
    if (priority >= Priority.critical) this.flushReporting();
    return seq;
  }

  /** Commits everything pending (samples, records, ack deletions) in one transaction; throws on failure. */
  flush(): void {
    if (this.closed) throw new Error(`store ${this.path} is closed`);
    if (this.pendingSamples === 0 && this.pendingRecords.length === 0 && this.acked.size === 0) return;
    const committed: CommitReport = { rows: 0, samples: this.pendingSamples, records: this.pendingRecords.length };
    for (const b of this.activeBuffers) if (b.buffer.count > 0) committed.rows++;
    committed.rows += committed.records;
    let evicted: EvictionReport;
    try {
      evicted = this.commitTransaction();
    } catch (err) {
      this.commitErrors++;
      this.commitFailing = true;
      throw new Error(`store ${this.path}: commit failed, ${this.pendingSamples} samples and ${this.pendingRecords.length} records kept pending: ${(err as Error).message}`, { cause: err });
    }
    this.commitFailing = false;
    this.commits++;
    if (evicted.rows > 0) this.onEvict(evicted);
    this.onCommit?.(committed);
    if (this.rejectedSinceReport > 0) {
      this.onError(new Error(`store ${this.path}: rejected ${this.rejectedSinceReport} samples, the last because ${this.describeLastReject()}`));
      this.rejectedSinceReport = 0;
    }
  }

  /** flush() for the timer and automatic commits: failures go to onError instead of throwing. */
  private flushReporting(): void {
    try {
      this.flush();
    } catch (err) {
      this.onError(err as Error);
    }
  }

  // The last rejection, kept as numbers so that rejecting allocates nothing; described at report time.
  private lastReject = { kind: 0, signalId: 0, value: 0, timeUs: 0 };
  private reject(kind: number, signalId: number, value: number, timeUs: number): void {
    this.rejectedSamples++;
    this.rejectedSinceReport++;
    const r = this.lastReject;
    r.kind = kind;
    r.signalId = signalId;
    r.value = value;
    r.timeUs = timeUs;
  }

  private describeLastReject(): string {
    const { kind, signalId, value, timeUs } = this.lastReject;
    switch (kind) {
      case Rejection.BAD_PRIORITY: return `priority ${value} is not an integer in 0..${MAX_PRIORITY}`;
      case Rejection.BAD_SIGNAL_ID: return `signal id ${signalId} is not a uint32`;
      case Rejection.NOT_FINITE: return `signal ${signalId}: value ${value} at time ${timeUs} us is not finite`;
      case Rejection.NO_GRID: return this.grids.lastProblem;
      default: return `signal ${signalId}: value ${value} is more than 2^52 grid steps from the offset`;
    }
  }

  /** The commit transaction; in-memory state changes only once it has succeeded. */
  private commitTransaction(): EvictionReport {
    const savedSeqs: [StreamState, number][] = [];
    const newStreams: StreamState[] = [];
    const delta: RowTotals[] = [];
    const evicted: EvictionReport = { rows: 0, samples: 0, records: 0, bytes: 0, maxPriority: 0 };
    const gone: number[] = [];
    const change = (priority: number, rows: number, samples: number, records: number, bytes: number): void => {
      const d = (delta[priority] ??= { rows: 0, samples: 0, records: 0, bytes: 0 });
      d.rows += rows;
      d.samples += samples;
      d.records += records;
      d.bytes += bytes;
    };
    const run = this.db.transaction(() => {
      for (const id of this.acked) {
        const row = this.stmt.deleteRow.get(id) as { priority: number; kind: number; count: number; size: number } | undefined;
        gone.push(id);
        if (row) change(row.priority, -1, row.kind === RowKind.SAMPLES ? -row.count : 0, row.kind === RowKind.RECORD ? -1 : 0, -(row.size + ROW_OVERHEAD_BYTES));
      }
      const streamId = (s: StreamState): number => {
        if (s.id === 0) {
          s.id = Number(this.stmt.insertStream.run(s.name, s.nextSeq).lastInsertRowid);
          newStreams.push(s);
        }
        return s.id;
      };
      const touched = new Set<StreamState>(); // streams whose counter this commit advances
      for (const { stream, priority, buffer } of this.activeBuffers) {
        if (buffer.count === 0) continue;
        if (!touched.has(stream)) savedSeqs.push([stream, stream.nextSeq]);
        touched.add(stream);
        const firstSeq = stream.nextSeq;
        const bytes = this.encoder.encodeArrivals({ firstSeq, priority, rule: '', signalTable: this.signalTable }, buffer.count, buffer.signal, buffer.timeMs, buffer.raw);
        this.stmt.insertRow.run(this.newRowId(priority), streamId(stream), priority, RowKind.SAMPLES, firstSeq, buffer.count, Math.round(buffer.firstTimeUs), bytes);
        stream.nextSeq += buffer.count;
        change(priority, 1, buffer.count, 0, bytes.length + ROW_OVERHEAD_BYTES);
      }
      for (const r of this.pendingRecords) {
        this.stmt.insertRow.run(this.newRowId(r.priority), streamId(r.stream), r.priority, RowKind.RECORD, r.seq, 1, r.timeUs, r.bytes);
        change(r.priority, 1, 0, 1, r.bytes.length + ROW_OVERHEAD_BYTES);
      }
      this.evictOverQuota(delta, change, evicted, gone);
      // Counters are written only when rows are deleted (see schema.ts: streams).
      if (gone.length > 0) for (const st of this.streams.values()) if (st.id !== 0) this.stmt.updateStream.run(st.nextSeq, st.id);
      if (evicted.rows > 0) {
        const c = this.counters;
        this.stmt.putCounter.run('evictedRows', c.evictedRows + evicted.rows);
        this.stmt.putCounter.run('evictedSamples', c.evictedSamples + evicted.samples);
        this.stmt.putCounter.run('evictedRecords', c.evictedRecords + evicted.records);
      }
    });
    try {
      run.immediate();
    } catch (err) {
      for (const [s, seq] of savedSeqs) s.nextSeq = seq;
      for (const s of newStreams) s.id = 0;
      throw err;
    }
    // Committed: apply to memory.
    for (const id of gone) {
      this.acked.delete(id);
      this.inFlight.forget(id);
    }
    for (let p = 0; p < delta.length; p++) {
      const d = delta[p];
      if (!d) continue;
      const t = (this.totals[p] ??= { rows: 0, samples: 0, records: 0, bytes: 0 });
      t.rows += d.rows;
      t.samples += d.samples;
      t.records += d.records;
      t.bytes += d.bytes;
    }
    for (const s of newStreams) this.streamsById.set(s.id, s);
    for (const b of this.activeBuffers) b.buffer.clear();
    this.pendingSamples = 0;
    this.pendingSinceMs = 0;
    this.pendingRecords = [];
    this.counters.evictedRows += evicted.rows;
    this.counters.evictedSamples += evicted.samples;
    this.counters.evictedRecords += evicted.records;
    return evicted;
  }

  /** Inside the commit: deletes rows, lowest priority and oldest first, until under quota. */
  private evictOverQuota(
    delta: RowTotals[],
    change: (priority: number, rows: number, samples: number, records: number, bytes: number) => void,
    evicted: EvictionReport,
    gone: number[],
  ): void {
    let stored = 0;
    const levels = Math.max(this.totals.length, delta.length);
    for (let p = 0; p < levels; p++) stored += (this.totals[p]?.bytes ?? 0) + (delta[p]?.bytes ?? 0);
    for (let p = 0; p < levels && stored > this.quotaBytes; p++) {
      while (stored > this.quotaBytes) {
        const rows = this.stmt.evictionCandidates.all(p * ROW_ID_SPAN, (p + 1) * ROW_ID_SPAN) as { id: number; kind: number; count: number; size: number }[];
        if (rows.length === 0) break;
        for (const row of rows) {
          if (stored <= this.quotaBytes) break;
          this.stmt.deleteRow.get(row.id);
          gone.push(row.id);
          const bytes = row.size + ROW_OVERHEAD_BYTES;
          const samples = row.kind === RowKind.SAMPLES ? row.count : 0;
          const records = row.kind === RowKind.RECORD ? 1 : 0;
          change(p, -1, -samples, -records, -bytes);
          stored -= bytes;
          evicted.rows++;
          evicted.samples += samples;
          evicted.records += records;
          evicted.bytes += bytes;
          evicted.maxPriority = Math.max(evicted.maxPriority, p);
        }
      }
    }
  }

  // --- reading for the uplink --------------------------------------------------------------------

  /** Up to `maxRows` committed rows to send: priority desc, then row id (= seq within a stream); marks them in flight. */
  nextBatch(maxRows: number): StoredRow[] {
    const now = Date.now();
    this.inFlight.releaseExpired(now);
    const out: StoredRow[] = [];
    for (let p = this.totals.length - 1; p >= 0 && out.length < maxRows; p--) {
      if (!this.totals[p] || this.totals[p].rows === 0) continue;
      const rows = this.stmt.nextRows.all(p * ROW_ID_SPAN, (p + 1) * ROW_ID_SPAN, maxRows - out.length) as {
        id: number; stream: number; priority: number; kind: number; first_seq: number; count: number; time_us: number; bytes: Uint8Array;
      }[];
      for (const r of rows) {
        this.inFlight.markSent(r.id, now);
        out.push({
          rowId: r.id,
          stream: this.streamsById.get(r.stream)?.name ?? `#${r.stream}`,
          priority: r.priority,
          kind: r.kind === RowKind.SAMPLES ? 'samples' : 'record',
          firstSeq: r.first_seq,
          count: r.count,
          timeUs: r.time_us,
          bytes: r.bytes,
        });
      }
    }
    return out;
  }

  /** The broker acknowledged these rows: never returned again, deleted by the next commit. */
  ack(rowIds: readonly number[]): void {
    for (const id of rowIds) {
      this.inFlight.markAcked(id);
      this.acked.add(id);
    }
  }

  /** Rows handed out and not acked become sendable again (call when the connection drops). */
  releaseInFlight(): number {
    return this.inFlight.releaseAll(this.acked);
  }

  // --- state, stats, lifecycle -------------------------------------------------------------------

  /** Stores a small value durably (own transaction, committed on return). Keys starting with `store.` are the store's own. */
  putState(key: string, value: Uint8Array): void {
    if (key.startsWith('store.')) throw new RangeError(`state key ${key} belongs to the store`);
    this.stmt.putState.run(key, Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }

  getState(key: string): Uint8Array | undefined {
    const row = this.stmt.getState.get(key) as { value: Uint8Array } | undefined;
    return row?.value;
  }

  deleteState(key: string): void {
    this.stmt.deleteState.run(key);
  }

  /** Every [key, value] of the state table whose key starts with `prefix`. */
  statesWithPrefix(prefix: string): [string, Uint8Array][] {
    return (this.stmt.statesWithPrefix.all({ prefix }) as { key: string; value: Uint8Array }[]).map((r) => [r.key, r.value]);
  }

  /** Sets a persisted counter (openOrRecover records recoveries here). */
  setCounter(name: CounterName, value: number): void {
    this.stmt.putCounter.run(name, value);
    this.counters[name] = value;
  }

  /** The next sequence number `stream` will hand out (1 for a new stream). */
  nextSeq(stream: string): number {
    return this.streams.get(stream)?.nextSeq ?? 1;
  }

  /**
   * Changes the signal grids (after a configuration change). Pending samples are committed first,
   * so that every chunk uses one grid and names its signal table.
   */
  setSignalGrid(lookup: SignalGridLookup, signalTable = 0): void {
    this.flushReporting();
    this.grids.replace(lookup);
    this.signalTable = signalTable;
  }

  stats(): StoreStats {
    const sum = (k: keyof RowTotals): number => this.totals.reduce((a, t) => a + (t ? t[k] : 0), 0);
    let fileBytes = 0;
    for (const suffix of ['', '-wal']) {
      try {
        fileBytes += statSync(this.path + suffix).size;
      } catch {
        // no WAL file right now
      }
    }
    return {
      pendingSamples: this.pendingSamples,
      pendingRecords: this.pendingRecords.length,
      storedRows: sum('rows'),
      storedSamples: sum('samples'),
      storedRecords: sum('records'),
      storedBytes: sum('bytes'),
      quotaBytes: this.quotaBytes,
      fileBytes,
      inFlightRows: this.inFlight.size,
      evictedRows: this.counters.evictedRows,
      evictedSamples: this.counters.evictedSamples,
      evictedRecords: this.counters.evictedRecords,
      rejectedSamples: this.rejectedSamples,
      droppedSamples: this.droppedSamples,
      commits: this.commits,
      commitErrors: this.commitErrors,
      pendingSinceMs: this.pendingSinceMs,
      recoveries: this.counters.recoveries,
    };
  }

  /** Commits what is pending and closes the file. If the final commit fails the file is still closed and the error thrown. */
  close(): void {
    if (this.closed) return;
    clearInterval(this.timer);
    try {
      this.flush();
    } finally {
      this.closed = true;
      this.db.close();
    }
  }

  // --- internals -----------------------------------------------------------------------------------

  /** See ROW_ID_SPAN. */
  private newRowId(priority: number): number {
    return priority * ROW_ID_SPAN + this.nextRowNumber++;
  }

  private streamFor(name: string): StreamState {
    let s = this.streams.get(name);
    if (!s) {
      s = { id: 0, name, nextSeq: 1, buffers: [] };
      this.streams.set(name, s);
    }
    return s;
  }

  private bufferFor(stream: string, priority: number): PendingSamples | undefined {
    if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) return undefined;
    const s = this.streamFor(stream);
    let buffer = s.buffers[priority];
    if (!buffer) {
      buffer = new PendingSamples();
      s.buffers[priority] = buffer;
      this.activeBuffers.push({ stream: s, priority, buffer });
    }
    this.lastStream = stream;
    this.lastPriority = priority;
    this.lastBuffer = buffer;
    return buffer;
  }

  private loadStreams(): void {
    for (const row of this.db.prepare('SELECT id, name, next_seq FROM streams').all() as { id: number; name: string; next_seq: number }[]) {
      const s: StreamState = { id: row.id, name: row.name, nextSeq: row.next_seq, buffers: [] };
      this.streams.set(s.name, s);
      this.streamsById.set(s.id, s);
    }
    // Counters advanced by commits that deleted nothing are only visible in the rows (schema.ts).
    const ends = this.db.prepare('SELECT stream, max(first_seq + count) AS end FROM rows GROUP BY stream').all() as { stream: number; end: number }[];
    for (const { stream, end } of ends) {
      const s = this.streamsById.get(stream);
      if (s && end > s.nextSeq) s.nextSeq = end;
    }
    for (let p = 0; p <= MAX_PRIORITY; p++) {
      const { id } = this.stmt.maxIdBetween.get(p * ROW_ID_SPAN, (p + 1) * ROW_ID_SPAN) as { id: number | null };
      if (id !== null) this.nextRowNumber = Math.max(this.nextRowNumber, id - p * ROW_ID_SPAN + 1);
    }
  }

  private loadTotals(): void {
    const rows = this.db
      .prepare(
        `SELECT priority, count(*) AS rows, sum(CASE WHEN kind = ${RowKind.SAMPLES} THEN count ELSE 0 END) AS samples,
                sum(kind = ${RowKind.RECORD}) AS records, sum(length(bytes)) AS bytes
         FROM rows GROUP BY priority`,
      )
      .all() as { priority: number; rows: number; samples: number; records: number; bytes: number }[];
    for (const r of rows) {
      this.totals[r.priority] = { rows: r.rows, samples: r.samples, records: r.records, bytes: r.bytes + r.rows * ROW_OVERHEAD_BYTES };
    }
  }

  private loadCounters(): void {
    for (const row of this.db.prepare('SELECT name, value FROM counters').all() as { name: string; value: number }[]) {
      if ((COUNTER_NAMES as readonly string[]).includes(row.name)) this.counters[row.name as CounterName] = row.value;
    }
  }
}
