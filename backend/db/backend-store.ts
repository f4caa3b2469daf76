/**
 * The backend's storage contract: what ingest writes (applyUploads) and what the Web API reads and
 * manages (vehicles, status, trips, telemetry, events, commands, monitors, API keys, webhook
 * deliveries). Two implementations share one SQL layer (sql-backend-store.ts): SQLite, the embedded
 * default (openSqliteStore), and PostgreSQL for a fleet (openPostgresStore); both run the same
 * versioned migrations (migrations.ts) and the same test suite (test/backend/store.test.ts).
 *
 * Conventions:
 * - times are Unix milliseconds (numbers); ranges are half-open [fromMs, toMs);
 * - lists are paged by keyset: pass `after` = the previous page's `next` (an opaque cursor) and a
 *   `limit` (1..1000, default 100); `next` is absent on the last page;
 * - vehicles are named by VIN; reads of an unknown VIN return undefined or an empty list;
 * - methods reject with StoreError for invalid arguments (bad cursor, limit, unknown monitor kind).
 */
import type { CheckinUpload, CommandState, StatusUpload, EventKind, PositionFix, SignalDescriptor, TripFields, Upload, UploadOutcome } from './uploads.js';

export type { CommandState, EventKind, PositionFix, SignalDescriptor, TripFields, Upload, UploadOutcome } from './uploads.js';

export class StoreError extends Error {
  override name = 'StoreError';
}

export interface PageQuery {
  limit?: number;
  after?: string;
}

export interface TimeRangeQuery extends PageQuery {
  fromMs?: number;
  toMs?: number;
}

export interface Page<T> {
  items: T[];
  /** Cursor of the next page; absent on the last one. */
  next?: string;
}

/** A vehicle: what its latest Checkin said (identity, versions, capabilities, signal table id), and its presence. */
export interface VehicleInfo extends Omit<CheckinUpload, 'kind' | 'timeMs' | 'signals'> {
  /** Time of the latest Checkin (0 before any). */
  checkinMs: number;
  firstSeenMs: number;
  /** From the `online` topic; false before any presence message. */
  online: boolean;
  presenceSinceMs: number;
  /** "shutdown", or "" (last will / online). */
  presenceReason: string;
}

/** A vehicle's latest status: the uploaded Status, and when it arrived. */
export interface VehicleStatus extends Omit<StatusUpload, 'kind' | 'seq'> {
  receivedMs: number;
}

/** A trip: its event id and vehicle, and the trip's fields as uploaded. */
export interface TripRecord extends TripFields {
  /** The event id (stable, unique). */
  id: number;
  vin: string;
}

export interface EventRecord {
  id: number;
  vin: string;
  kind: EventKind;
  timeMs: number;
  priority: string;
  stream: string;
  epoch: string;
  /** 0 when the event carried none. */
  seq: number;
  monitorId?: string;
  position?: PositionFix;
  /** The kind's body (message-json form), e.g. alert {code, active, severity, ...}, collision with preWindow/postWindow. */
  detail: Record<string, unknown>;
  receivedMs: number;
}

export interface EventQuery extends TimeRangeQuery {
  /** Only these kinds (default: all). */
  kinds?: EventKind[];
}

/** Samples of one signal, time ascending, physical values (raw * scale + offset). */
export interface SignalSeries {
  signal: string;
  unit: string;
  timeMs: Float64Array;
  value: Float64Array;
}

export interface SignalInfo {
  name: string;
  unit: string;
}

export interface CommandRecord {
  id: string;
  vin: string;
  /** Catalog name, e.g. "door_lock"; "" for a command seen only through its response. */
  action: string;
  args: Record<string, string>;
  state: CommandState;
  reason: string;
  detail: string;
  createdMs: number;
  updatedMs: number;
  /** When a final state (anything but PENDING / IN_PROGRESS) arrived; 0 before. */
  completedMs: number;
}

export interface NewCommand {
  id: string;
  vin: string;
  action: string;
  args?: Record<string, string>;
  createdMs: number;
}

export interface CommandResponseRecord {
  commandId: string;
  state: CommandState;
  reason: string;
  detail: string;
  timeMs: number;
  receivedMs: number;
}

export interface RulesAckRecord {
  vin: string;
  version: number;
  accepted: boolean;
  error: string;
  activeVersion: number;
  receivedMs: number;
}

export type MonitorKind = 'geofence-circle' | 'geofence-polygon';
export type MonitorState = 'pending' | 'active' | 'failed';

/** Circle: center [lon, lat] and radius; polygon: a closed ring of [lon, lat] (GeoJSON order). */
export type MonitorShape = { center: [number, number]; radiusM: number } | { ring: [number, number][] };

export interface MonitorRecord {
  id: string;
  vin: string;
  kind: MonitorKind;
  shape: MonitorShape;
  state: MonitorState;
  /** Why it failed (state failed), else "". */
  error: string;
  callbackUrl: string;
  /** Shared secret for signing webhook payloads. */
  secret: string;
  createdMs: number;
  updatedMs: number;
}

export interface NewMonitor {
  id: string;
  vin: string;
  kind: MonitorKind;
  shape: MonitorShape;
  callbackUrl: string;
  secret: string;
  createdMs: number;
}

export interface MonitorUpdate {
  state?: MonitorState;
  error?: string;
  callbackUrl?: string;
  secret?: string;
  shape?: MonitorShape;
  updatedMs: number;
}

export interface ApiKeyRecord {
  id: string;
  name: string;
  /** Vehicles this key may see; undefined: all. */
  vins?: string[];
  canRead: boolean;
  canRemote: boolean;
  createdMs: number;
  /** 0 while valid. */
  revokedMs: number;
}

export interface NewApiKey {
  id: string;
  name: string;
  /** The secret token; only its SHA-256 is stored. */
  token: string;
  vins?: string[];
  canRead: boolean;
  canRemote: boolean;
  createdMs: number;
}

export type WebhookState = 'pending' | 'delivered' | 'failed';

export interface WebhookDelivery {
  id: number;
  monitorId: string;
  /** The transition event delivered (0 when not tied to an event). */
  eventId: number;
  url: string;
  payload: Record<string, unknown>;
  state: WebhookState;
  attempts: number;
  nextAttemptMs: number;
  lastError: string;
  createdMs: number;
  deliveredMs: number;
}

export interface NewWebhookDelivery {
  monitorId: string;
  eventId: number;
  url: string;
  payload: Record<string, unknown>;
  createdMs: number;
}

export interface WebhookAttempt {
  /** true: delivered; false: failed this time (retried at nextAttemptMs unless final). */
  delivered: boolean;
  atMs: number;
  error?: string;
  /** When to try again; omitted with `final` or `delivered`. */
  nextAttemptMs?: number;
  /** Give up: state becomes failed. */
  final?: boolean;
}

export interface StorageFigures {
  /** Samples stored. */
  samples: number;
  /** Bytes of the sample tables (with their indexes). */
  sampleBytes: number;
  /** Bytes of the whole database. */
  totalBytes: number;
}

export interface BackendStore {
  readonly dialect: 'sqlite' | 'postgres';

  // --- ingest ---------------------------------------------------------------------------------
  /**
   * Applies uploads in ONE transaction, each with its dedupe record: a sequenced upload (samples,
   * events) whose (vehicle, epoch, stream, seq) range is already stored writes only the part not yet
   * stored (often nothing). Checkin, presence, status, command responses and rules acks are
   * idempotent upserts (the newest wins). Resolves after the commit with one outcome per upload;
   * rejects (nothing written) on a database error.
   */
  applyUploads(uploads: readonly Upload[]): Promise<UploadOutcome[]>;

  // --- vehicles -------------------------------------------------------------------------------
  /** Vehicles by VIN ascending (keyset paging on the VIN); `vins` restricts to those (API key scope). */
  listVehicles(query?: PageQuery & { vins?: readonly string[] }): Promise<Page<VehicleInfo>>;
  vehicle(vin: string): Promise<VehicleInfo | undefined>;
  /** The latest signal table (names, units, scales) of a vehicle. */
  signalTable(vin: string): Promise<SignalDescriptor[]>;
  status(vin: string): Promise<VehicleStatus | undefined>;

  // --- trips and events -------------------------------------------------------------------------
  /** Trips whose departure is in [fromMs, toMs), newest first. */
  trips(vin: string, query?: TimeRangeQuery): Promise<Page<TripRecord>>;
  /** One trip by its event id or its trip id. */
  trip(vin: string, id: number | string): Promise<TripRecord | undefined>;
  /** Events in [fromMs, toMs), newest first (alerts, maintenance, collisions, ignition, rule triggers, monitor transitions...). */
  events(vin: string, query?: EventQuery): Promise<Page<EventRecord>>;
  event(vin: string, id: number): Promise<EventRecord | undefined>;
  /** Geofence/threshold transitions of one monitor (events whose monitor id it is), newest first. */
  monitorTransitions(monitorId: string, query?: TimeRangeQuery): Promise<Page<EventRecord>>;

  // --- telemetry --------------------------------------------------------------------------------
  /** Signals with stored samples. */
  signals(vin: string): Promise<SignalInfo[]>;
  /** Samples of one signal in [fromMs, toMs), time ascending; at most `limit` (default 1,000,000). */
  samples(vin: string, signal: string, fromMs: number, toMs: number, limit?: number): Promise<SignalSeries | undefined>;
  /**
   * Position history in [fromMs, toMs), time ascending: from the Latitude/Longitude signals
   * (Vehicle.CurrentLocation.*) when the vehicle sends them, else from its status positions.
   */
  positions(vin: string, fromMs: number, toMs: number, limit?: number): Promise<PositionFix[]>;

  // --- remote commands --------------------------------------------------------------------------
  /** Records a command before it is sent (state PENDING). Rejects with StoreError when the id exists. */
  createCommand(command: NewCommand): Promise<CommandRecord>;
  command(id: string): Promise<CommandRecord | undefined>;
  /** Commands of a vehicle, newest first (keyset on creation time). */
  commands(vin: string, query?: TimeRangeQuery): Promise<Page<CommandRecord>>;
  /** Every response received for a command, in arrival order. */
  commandResponses(id: string): Promise<CommandResponseRecord[]>;

  /** Answers to rules updates, newest version first. */
  rulesAcks(vin: string): Promise<RulesAckRecord[]>;

  // --- monitors ---------------------------------------------------------------------------------
  createMonitor(monitor: NewMonitor): Promise<MonitorRecord>;
  monitor(id: string): Promise<MonitorRecord | undefined>;
  monitors(query?: PageQuery & { vin?: string }): Promise<Page<MonitorRecord>>;
  /** Undefined when there is no such monitor. */
  updateMonitor(id: string, update: MonitorUpdate): Promise<MonitorRecord | undefined>;
  /** false when there was no such monitor. */
  deleteMonitor(id: string): Promise<boolean>;

  // --- API keys ---------------------------------------------------------------------------------
  createApiKey(key: NewApiKey): Promise<ApiKeyRecord>;
  /** The valid (not revoked) key whose token this is. */
  apiKeyByToken(token: string): Promise<ApiKeyRecord | undefined>;
  apiKeys(query?: PageQuery): Promise<Page<ApiKeyRecord>>;
  /** false when there was no such valid key. */
  revokeApiKey(id: string, atMs: number): Promise<boolean>;

  // --- webhook deliveries -----------------------------------------------------------------------
  enqueueWebhook(delivery: NewWebhookDelivery): Promise<WebhookDelivery>;
  /** Pending deliveries due at `nowMs` (nextAttemptMs <= nowMs), oldest first. */
  dueWebhooks(nowMs: number, limit?: number): Promise<WebhookDelivery[]>;
  recordWebhookAttempt(id: number, attempt: WebhookAttempt): Promise<WebhookDelivery | undefined>;
  webhookDeliveries(monitorId: string, query?: PageQuery): Promise<Page<WebhookDelivery>>;

  // --- housekeeping -----------------------------------------------------------------------------
  /** Sample count and database sizes (bench, monitoring). */
  storageFigures(): Promise<StorageFigures>;
  close(): Promise<void>;
}
