/**
 * Writes decoded uploads inside one transaction (BackendStore.applyUploads), each with its dedupe
 * record. Sequenced uploads (samples, events) lock their (vehicle, epoch, stream) row first, so two
 * workers handling copies of the same message one after the other never both write it; the ranges
 * already stored are subtracted and only the new part is written.
 *
 * Ids created in the transaction (vehicles, signals) are handed to the caller's caches only after
 * the commit (`created`), never before: a rolled-back id must not be reused.
 */
import { SampleChunkEncoder } from '../../wire/sample-chunk.js';
import type { SqlExecutor, SqlValue } from './sql-connection.js';
import { encodePiece, samplePieces } from './sample-pieces.js';
import { mergedRange, uncoveredParts, type SeqRange } from './seq-ranges.js';
import type {
  CheckinUpload, CommandResponseUpload, EventUpload, PresenceUpload, RulesAckUpload, SamplesUpload, SignalDescriptor,
  StatusUpload, Upload, UploadOutcome,
} from './uploads.js';
import { StoreError } from './backend-store.js';

/** Rows per multi-row INSERT of sample chunks (8 parameters each). */
const CHUNK_ROWS_PER_INSERT = 400;

/** Thrown when a SampleBatch names a signal table the vehicle never checked in with (yet). */
export class SignalTableMissingError extends StoreError {
  override name = 'SignalTableMissingError';
}

/** Caches shared across transactions (filled only from committed rows). */
export interface WriterCaches {
  vehicleIds: Map<string, number>;
  /** `${vehicleId}/${name}` -> signals.id */
  signalIds: Map<string, number>;
  /** `${vehicleId}/${tableId}` -> descriptors by signal id (tables are immutable: the id is their hash). */
  signalTables: Map<string, Map<number, SignalDescriptor>>;
}

export interface WriteOptions {
  /** Store samples of an unknown signal table under "#<id>" names instead of throwing SignalTableMissingError. */
  acceptUnknownSignalTables?: boolean;
  nowMs: number;
}

const ZERO: UploadOutcome = { written: 0, duplicates: 0, unknownSignals: 0 };

export class UploadWriter {
  private readonly encoder = new SampleChunkEncoder();
  /** Ids created in this transaction, for the caches after the commit. */
  readonly created: WriterCaches = { vehicleIds: new Map(), signalIds: new Map(), signalTables: new Map() };

  constructor(
    private readonly tx: SqlExecutor,
    private readonly caches: WriterCaches,
    private readonly options: WriteOptions,
  ) {}

  /** Applies `uploads` in order; vehicles and stream locks are taken first in a fixed order (no deadlocks between workers). */
  async applyAll(uploads: readonly Upload[]): Promise<UploadOutcome[]> {
    for (const vin of [...new Set(uploads.map((u) => u.vin))].sort()) await this.vehicleId(vin);
    const streams = new Map<string, [string, string, string]>();
    for (const u of uploads) if (u.kind === 'samples' || (u.kind === 'event' && u.seq > 0)) streams.set(JSON.stringify([u.vin, u.epoch, u.stream]), [u.vin, u.epoch, u.stream]);
    for (const key of [...streams.keys()].sort()) {
      const [vin, epoch, stream] = streams.get(key)!;
      await this.lockStream(await this.vehicleId(vin), epoch, stream);
    }
    const outcomes: UploadOutcome[] = [];
    for (const upload of uploads) outcomes.push(await this.apply(upload));
    return outcomes;
  }

  private apply(upload: Upload): Promise<UploadOutcome> {
    switch (upload.kind) {
      case 'checkin': return this.checkin(upload);
      case 'presence': return this.presence(upload);
      case 'status': return this.status(upload);
      case 'samples': return this.samples(upload);
      case 'event': return this.event(upload);
      case 'command-response': return this.commandResponse(upload);
      case 'rules-ack': return this.rulesAck(upload);
    }
  }

  async vehicleId(vin: string): Promise<number> {
    const known = this.caches.vehicleIds.get(vin) ?? this.created.vehicleIds.get(vin);
    if (known !== undefined) return known;
    await this.tx.run('INSERT INTO vehicles (vin, first_seen_ms) VALUES (?, ?) ON CONFLICT (vin) DO NOTHING', [vin, this.options.nowMs]);
    const [row] = await this.tx.query<{ id: number }>('SELECT id FROM vehicles WHERE vin = ?', [vin]);
    this.created.vehicleIds.set(vin, Number(row.id));
    return Number(row.id);
  }

  /** Creates (once) and locks the dedupe row of a stream until the transaction ends; its id. */
  private async lockStream(vehicleId: number, epoch: string, stream: string): Promise<number> {
    const [row] = await this.tx.query<{ id: number }>(
      'INSERT INTO seq_streams (vehicle_id, epoch, stream) VALUES (?, ?, ?) ON CONFLICT (vehicle_id, epoch, stream) DO UPDATE SET stream = excluded.stream RETURNING id',
      [vehicleId, epoch, stream],
    );
    return Number(row.id);
  }

  /** Which part of [first, end) is new; records the whole range as stored. */
  private async claimSequences(vehicleId: number, epoch: string, stream: string, first: number, end: number): Promise<SeqRange[]> {
    const streamId = await this.lockStream(vehicleId, epoch, stream);
    const touching = (await this.tx.query<{ first_seq: number; end_seq: number }>(
      'SELECT first_seq, end_seq FROM seq_ranges WHERE stream_id = ? AND first_seq <= ? AND end_seq >= ? ORDER BY first_seq',
      [streamId, end, first],
    )).map((r) => [Number(r.first_seq), Number(r.end_seq)] as const);
    const fresh = uncoveredParts(first, end, touching);
    if (fresh.length > 0) {
      const [a, b] = mergedRange(first, end, touching);
      await this.tx.run('DELETE FROM seq_ranges WHERE stream_id = ? AND first_seq <= ? AND end_seq >= ?', [streamId, end, first]);
      await this.tx.run('INSERT INTO seq_ranges (stream_id, first_seq, end_seq) VALUES (?, ?, ?)', [streamId, a, b]);
    }
    return fresh;
  }

  private async checkin(u: CheckinUpload): Promise<UploadOutcome> {
    const vehicleId = await this.vehicleId(u.vin);
    await this.tx.run(
      `UPDATE vehicles SET brand = ?, model = ?, fuel_type = ?, model_year = ?, agent_version = ?, config_version = ?, rules_version = ?,
         capabilities = ?, boot_id = ?, signal_table = ?, checkin_ms = ? WHERE id = ? AND checkin_ms <= ?`,
      [u.brand, u.model, u.fuelType, u.modelYear, u.agentVersion, u.configVersion, u.rulesVersion, JSON.stringify(u.capabilities), u.bootId, u.signalTable, u.timeMs, vehicleId, u.timeMs],
    );
    await this.tx.run('INSERT INTO signal_tables (vehicle_id, table_id, signals, received_ms) VALUES (?, ?, ?, ?) ON CONFLICT (vehicle_id, table_id) DO NOTHING', [
      vehicleId, u.signalTable, JSON.stringify(u.signals), this.options.nowMs,
    ]);
    return { ...ZERO, written: 1 };
  }

  private async presence(u: PresenceUpload): Promise<UploadOutcome> {
    const vehicleId = await this.vehicleId(u.vin);
    const changed = await this.tx.run('UPDATE vehicles SET online = ?, presence_since_ms = ?, presence_reason = ? WHERE id = ? AND presence_since_ms <= ?', [
      u.online ? 1 : 0, u.sinceMs, u.reason, vehicleId, u.sinceMs,
    ]);
    return { ...ZERO, written: changed };
  }

  private async status(u: StatusUpload): Promise<UploadOutcome> {
    const vehicleId = await this.vehicleId(u.vin);
    const changed = await this.tx.run(
      `INSERT INTO vehicle_status (vehicle_id, time_ms, position, speed_kmh, fuel_level_pct, battery_soc_pct, range_km, odometer_km, ignition, doors, locked, seq, received_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (vehicle_id) DO UPDATE SET time_ms = excluded.time_ms, position = excluded.position, speed_kmh = excluded.speed_kmh,
         fuel_level_pct = excluded.fuel_level_pct, battery_soc_pct = excluded.battery_soc_pct, range_km = excluded.range_km,
         odometer_km = excluded.odometer_km, ignition = excluded.ignition, doors = excluded.doors, locked = excluded.locked, seq = excluded.seq,
         received_ms = excluded.received_ms
       WHERE excluded.time_ms >= vehicle_status.time_ms`,
      [vehicleId, u.timeMs, u.position ? JSON.stringify(u.position) : null, u.speedKmh, u.fuelLevelPct, u.batterySocPct, u.rangeKm, u.odometerKm,
        u.ignition, JSON.stringify(u.doors), u.locked ? 1 : 0, u.seq, this.options.nowMs],
    );
    const p = u.position;
    if (p && (p.lat !== 0 || p.lon !== 0)) {
      await this.tx.run(
        'INSERT INTO status_positions (vehicle_id, time_ms, lat, lon, alt_m, heading_deg, speed_kmh, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (vehicle_id, time_ms) DO NOTHING',
        [vehicleId, p.timeMs || u.timeMs, p.lat, p.lon, p.altM, p.headingDeg, p.speedKmh, p.source],
      );
    }
    return { ...ZERO, written: changed };
  }

  private async signalTable(vehicleId: number, tableId: number): Promise<Map<number, SignalDescriptor> | undefined> {
    let id = tableId;
    if (id === 0) {
      const [row] = await this.tx.query<{ signal_table: number }>('SELECT signal_table FROM vehicles WHERE id = ?', [vehicleId]);
      id = Number(row?.signal_table ?? 0);
    }
    const key = `${vehicleId}/${id}`;
    const cached = this.caches.signalTables.get(key) ?? this.created.signalTables.get(key);
    if (cached) return cached;
    const [row] = await this.tx.query<{ signals: string }>('SELECT signals FROM signal_tables WHERE vehicle_id = ? AND table_id = ?', [vehicleId, id]);
    if (!row) return undefined;
    const table = new Map((JSON.parse(row.signals) as SignalDescriptor[]).map((s) => [s.id, s]));
    this.created.signalTables.set(key, table);
    return table;
  }

  private async signalId(vehicleId: number, name: string, unit: string): Promise<number> {
    const key = `${vehicleId}/${name}`;
    const known = this.caches.signalIds.get(key) ?? this.created.signalIds.get(key);
    if (known !== undefined) return known;
    await this.tx.run('INSERT INTO signals (vehicle_id, name, unit) VALUES (?, ?, ?) ON CONFLICT (vehicle_id, name) DO NOTHING', [vehicleId, name, unit]);
    const [row] = await this.tx.query<{ id: number }>('SELECT id FROM signals WHERE vehicle_id = ? AND name = ?', [vehicleId, name]);
    this.created.signalIds.set(key, Number(row.id));
    return Number(row.id);
  }

  private async samples(u: SamplesUpload): Promise<UploadOutcome> {
    const count = u.columns.sampleCount;
    if (count === 0) return ZERO;
    const vehicleId = await this.vehicleId(u.vin);
    const table = await this.signalTable(vehicleId, u.signalTable);
    if (!table && !this.options.acceptUnknownSignalTables) {
      throw new SignalTableMissingError(`${u.vin}: signal table ${u.signalTable} unknown (no Checkin with it stored yet)`);
    }
    const fresh = await this.claimSequences(vehicleId, u.epoch, u.stream, u.firstSeq, u.firstSeq + count);
    const keep = fresh.map(([a, b]) => [a - u.firstSeq, b - u.firstSeq] as const);
    const kept = keep.reduce((n, [a, b]) => n + b - a, 0);
    let unknownSignals = 0;
    const rows: SqlValue[] = [];
    for (const piece of samplePieces(u.columns, keep)) {
      const signal = u.columns.columnSignal[piece.column];
      const descriptor = table?.get(signal);
      if (!descriptor) unknownSignals += piece.to - piece.from;
      const name = descriptor?.name || `#${signal}`;
      const signalId = await this.signalId(vehicleId, name, descriptor?.unit ?? '');
      rows.push(vehicleId, signalId, piece.tFirst, piece.tLast, piece.to - piece.from, descriptor?.scale || 1, descriptor?.offset ?? 0,
        Buffer.from(encodePiece(this.encoder, u.columns, piece, u.firstSeq)));
    }
    for (let at = 0; at < rows.length; at += 8 * CHUNK_ROWS_PER_INSERT) {
      const slice = rows.slice(at, at + 8 * CHUNK_ROWS_PER_INSERT);
      const values = Array.from({ length: slice.length / 8 }, () => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
      await this.tx.run(`INSERT INTO sample_chunks (vehicle_id, signal_id, t_first, t_last, sample_count, scale, "offset", chunk) VALUES ${values}`, slice);
    }
    return { written: kept, duplicates: count - kept, unknownSignals };
  }

  private async event(u: EventUpload): Promise<UploadOutcome> {
    const vehicleId = await this.vehicleId(u.vin);
    if (u.seq > 0) {
      const fresh = await this.claimSequences(vehicleId, u.epoch, u.stream, u.seq, u.seq + 1);
      if (fresh.length === 0) return { ...ZERO, duplicates: 1 };
    }
    const [row] = await this.tx.query<{ id: number }>(
      `INSERT INTO events (vehicle_id, epoch, stream, seq, time_ms, kind, priority, monitor_id, position, detail, received_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [vehicleId, u.epoch, u.stream, u.seq > 0 ? u.seq : null, u.timeMs, u.eventKind, u.priority, u.monitorId ?? null,
        u.position ? JSON.stringify(u.position) : null, JSON.stringify(u.detail), this.options.nowMs],
    );
    const t = u.trip;
    if (t) {
      await this.tx.run(
        `INSERT INTO trips (event_id, vehicle_id, trip_id, departure_ms, arrival_ms, departure, arrival, distance_km, distance_source, duration_s,
           max_speed_kmh, avg_speed_kmh, fuel_used_l, energy_used_kwh) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [Number(row.id), vehicleId, t.tripId, t.departureMs, t.arrivalMs, t.departure ? JSON.stringify(t.departure) : null,
          t.arrival ? JSON.stringify(t.arrival) : null, t.distanceKm, t.distanceSource, t.durationS, t.maxSpeedKmh, t.avgSpeedKmh, t.fuelUsedL, t.energyUsedKwh],
      );
    }
    return { ...ZERO, written: 1 };
  }

  private async commandResponse(u: CommandResponseUpload): Promise<UploadOutcome> {
    const vehicleId = await this.vehicleId(u.vin);
    const [existing] = await this.tx.query<{ vehicle_id: number }>('SELECT vehicle_id FROM commands WHERE id = ?', [u.commandId]);
    if (existing && Number(existing.vehicle_id) !== vehicleId) {
      return { ...ZERO, rejected: `${u.vin} answered command ${u.commandId}, which belongs to another vehicle` };
    }
    const final = u.state !== 'IN_PROGRESS' && u.state !== 'PENDING';
    const now = this.options.nowMs;
    await this.tx.run(
      `INSERT INTO commands (id, vehicle_id, action, args, state, reason, detail, created_ms, updated_ms, completed_ms) VALUES (?, ?, '', '{}', ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET state = excluded.state, reason = excluded.reason, detail = excluded.detail, updated_ms = excluded.updated_ms,
         completed_ms = excluded.completed_ms
       WHERE commands.completed_ms = 0`,
      [u.commandId, vehicleId, u.state, u.reason, u.detail, u.timeMs || now, now, final ? now : 0],
    );
    const added = await this.tx.run(
      'INSERT INTO command_responses (command_id, state, reason, detail, time_ms, received_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (command_id, state, time_ms) DO NOTHING',
      [u.commandId, u.state, u.reason, u.detail, u.timeMs, now],
    );
    return added ? { ...ZERO, written: 1 } : { ...ZERO, duplicates: 1 };
  }

  private async rulesAck(u: RulesAckUpload): Promise<UploadOutcome> {
    const vehicleId = await this.vehicleId(u.vin);
    await this.tx.run(
      `INSERT INTO rules_acks (vehicle_id, version, accepted, error, active_version, received_ms) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (vehicle_id, version) DO UPDATE SET accepted = excluded.accepted, error = excluded.error, active_version = excluded.active_version, received_ms = excluded.received_ms`,
      [vehicleId, u.version, u.accepted ? 1 : 0, u.error, u.activeVersion, this.options.nowMs],
    );
    return { ...ZERO, written: 1 };
  }
}

