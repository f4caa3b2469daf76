/**
 * Group commit for ingest: received uploads wait in a queue; one loop writes everything queued in
 * one transaction (BackendStore.applyUploads), then acknowledges each (PUBACK), in arrival order on
 * each connection. A message is never acked before its data is committed.
 *
 * Checkins go first: ahead of the batch they came in, and ahead of a message waiting for its signal
 * table. They carry the tables the other messages need, and they come on a connection of their own,
 * so taking them early keeps each connection's PUBACK order. Without this, data that overtook its
 * vehicle's first Checkin (two connections, no order between them) held that Checkin behind it for
 * the whole wait, then was stored under signal ids.
 *
 * Failures:
 * - database unavailable (transient error): nothing is acked, the same batch is retried with
 *   backoff until the database is back (the broker keeps every unacked message meanwhile);
 * - a batch refused for its content: each message is retried alone, so one bad message does not
 *   hold the others; one refused alone is counted ("refused-by-store"), logged and acked;
 * - samples of a signal table not stored yet (their Checkin is on its way on another connection):
 *   retried for up to `signalTableWaitMs`, then stored under signal ids ("#<id>") and counted. The
 *   loop waits once per vehicle and table: until a Checkin of that vehicle comes, its next samples
 *   of that table are stored under ids at once (else one vehicle without a Checkin would hold the
 *   whole loop, `signalTableWaitMs` per message).
 */
import { Backoff, type BackoffOptions } from '../../wire/backoff.js';
import type { Logger } from '../../wire/log.js';
import type { SamplesUpload, Upload, UploadOutcome } from '../db/uploads.js';
import { SignalTableMissingError } from '../db/upload-writer.js';

/** The store as the loop needs it. */
export interface UploadSink {
  applyUploads(uploads: readonly Upload[], options?: { acceptUnknownSignalTables?: boolean }): Promise<UploadOutcome[]>;
  isTransient(err: unknown): boolean;
}

export interface PendingUpload {
  upload: Upload;
  receivedMs: number;
  /** Sends the PUBACK (only called after the commit). */
  ack: () => void;
}

export interface CommitStats {
  committedMessages: number;
  batches: number;
  samplesWritten: number;
  duplicateSeqs: number;
  unknownSignalSamples: number;
  /** Retries while the database was unavailable. */
  databaseRetries: number;
  /** Messages the store refused (acked, not written), by reason. */
  refused: number;
}

export interface CommitLoopOptions {
  sink: UploadSink;
  log: Logger;
  backoff?: BackoffOptions;
  /** Most messages per transaction. Default 500. */
  maxBatch?: number;
  signalTableWaitMs?: number;
  /** Called once per refused message with its reason (the worker counts it as malformed). */
  onRefused?: (upload: Upload, reason: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class CommitLoop {
  private readonly queue: PendingUpload[] = [];
  private running: Promise<void> | undefined;
  private readonly backoff: Backoff;
  private stopped = false;
  /** Per VIN, the signal tables its samples waited for in vain (forgotten when a Checkin of it is committed). */
  private readonly tablesGivenUp = new Map<string, Set<number>>();
  readonly stats: CommitStats = { committedMessages: 0, batches: 0, samplesWritten: 0, duplicateSeqs: 0, unknownSignalSamples: 0, databaseRetries: 0, refused: 0 };

  constructor(private readonly options: CommitLoopOptions) {
    this.backoff = new Backoff({ initialMs: 100, maxMs: 5000, ...options.backoff });
  }

  get queued(): number {
    return this.queue.length;
  }

  push(item: PendingUpload): void {
    this.queue.push(item);
    this.kick();
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.queue.length > 0) this.kick(); // arrived after the loop's last look
    });
  }

  /** Stops retrying; resolves when the current batch ended (committed or given up, unacked). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.stopped) {
      const batch = this.queue.splice(0, this.options.maxBatch ?? 500);
      await this.commit([...takeCheckins(batch), ...batch]);
    }
  }

  /** Commits a batch (retrying while the database is away); acks what was committed or refused. */
  private async commit(batch: PendingUpload[]): Promise<void> {
    let outage = false;
    for (;;) {
      if (this.stopped) return;
      try {
        const outcomes = await this.options.sink.applyUploads(batch.map((p) => p.upload));
        if (outage) this.options.log('info', `ingest: database back, committed ${batch.length} waiting message(s)`);
        this.backoff.reset();
        this.stats.batches++;
        batch.forEach((p, i) => this.settle(p, outcomes[i]));
        return;
      } catch (err) {
        if (this.options.sink.isTransient(err)) {
          if (!outage) this.options.log('warn', `ingest: database unavailable (${(err as Error).message}); not acking, retrying`);
          outage = true;
          this.stats.databaseRetries++;
          await sleep(this.backoff.next());
          continue;
        }
        if (batch.length > 1) {
          for (const p of batch) await this.commit([p]);
          return;
        }
        const [p] = batch;
        if (err instanceof SignalTableMissingError && p.upload.kind === 'samples') {
          if (await this.stillWaitingForTable(p.upload, p.receivedMs, err)) continue;
          await this.commitAccepting(p);
          return;
        }
        this.refuse(p, `refused by the database: ${(err as Error).message}`);
        return;
      }
    }
  }

  /**
   * For samples whose signal table is missing: true while they are within their wait (the Checkins
   * queued meanwhile committed, or a short sleep); false once it is over, or when it was already
   * spent on this vehicle's table.
   */
  private async stillWaitingForTable(upload: SamplesUpload, receivedMs: number, err: Error): Promise<boolean> {
    const givenUp = this.tablesGivenUp.get(upload.vin) ?? new Set<number>();
    if (givenUp.has(upload.signalTable)) return false;
    if (Date.now() - receivedMs < (this.options.signalTableWaitMs ?? 10_000)) {
      if (!(await this.commitQueuedCheckins())) await sleep(200);
      return true;
    }
    this.options.log('warn', `ingest: ${err.message}; storing its samples under signal ids until a Checkin of ${upload.vin} comes`);
    this.tablesGivenUp.set(upload.vin, givenUp.add(upload.signalTable));
    return false;
  }

  /** Commits the Checkins queued meanwhile, the table a waiting message needs may be among them; whether there were any. */
  private async commitQueuedCheckins(): Promise<boolean> {
    const checkins = takeCheckins(this.queue);
    if (checkins.length > 0) await this.commit(checkins);
    return checkins.length > 0;
  }

  private async commitAccepting(p: PendingUpload): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      try {
        const [outcome] = await this.options.sink.applyUploads([p.upload], { acceptUnknownSignalTables: true });
        this.settle(p, outcome);
        return;
      } catch (err) {
        if (!this.options.sink.isTransient(err)) return this.refuse(p, `refused by the database: ${(err as Error).message}`);
        this.stats.databaseRetries++;
        await sleep(this.backoff.next());
      }
    }
  }

  private settle(p: PendingUpload, outcome: UploadOutcome): void {
    if (outcome.rejected) return this.refuse(p, outcome.rejected);
    this.stats.committedMessages++;
    if (p.upload.kind === 'checkin') this.tablesGivenUp.delete(p.upload.vin);
    if (p.upload.kind === 'samples') this.stats.samplesWritten += outcome.written;
    this.stats.duplicateSeqs += outcome.duplicates;
    this.stats.unknownSignalSamples += outcome.unknownSignals;
    p.ack();
  }

  private refuse(p: PendingUpload, reason: string): void {
    this.stats.refused++;
    this.options.log('warn', `ingest: ${p.upload.vin} ${p.upload.kind}: ${reason}`);
    this.options.onRefused?.(p.upload, reason);
    p.ack();
  }
}

/** Removes the checkins from `uploads` (in place) and returns them, both in their order. */
function takeCheckins(uploads: PendingUpload[]): PendingUpload[] {
  const checkins: PendingUpload[] = [];
  let kept = 0;
  for (const p of uploads) {
    if (p.upload.kind === 'checkin') checkins.push(p);
    else uploads[kept++] = p;
  }
  uploads.length = kept;
  return checkins;
}
