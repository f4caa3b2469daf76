/**
 * What ingest hands to the store: one decoded upload message per record, already checked (the VIN
 * is the topic's, the protobuf parsed). The store applies each with its dedupe record in one
 * transaction (BackendStore.applyUploads).
 *
 * Sequenced uploads (samples, events) carry `epoch` (the MQTT 5 user property `epoch`, "" when the
 * agent sends none), `stream` and their sequence numbers: the store keys its dedupe on
 * (vehicle, epoch, stream, seq), so a replay is acked without writing twice while a vehicle whose
 * store was reset (sequences back at 1, new epoch) is stored again.
 */
import type { SampleColumns } from '../../wire/sample-chunk.js';

/** A Checkin signal table entry: value = raw * scale + offset. */
export interface SignalDescriptor {
  id: number;
  name: string;
  unit: string;
  scale: number;
  offset: number;
}

/** A position as the wire has it (WGS84 degrees); fields absent on the wire are 0. */
export interface PositionFix {
  lat: number;
  lon: number;
  altM: number;
  headingDeg: number;
  speedKmh: number;
  /** Unix ms of the fix (0: unknown). */
  timeMs: number;
  /** "CAN", "GNSS" or "" (unspecified). */
  source: string;
}

export interface CheckinUpload {
  kind: 'checkin';
  vin: string;
  brand: string;
  model: string;
  fuelType: string;
  modelYear: number;
  agentVersion: string;
  configVersion: string;
  rulesVersion: number;
  capabilities: string[];
  bootId: string;
  timeMs: number;
  /** Checkin.signal_table (a hash of `signals`, never 0 from a current agent). */
  signalTable: number;
  signals: SignalDescriptor[];
}

export interface PresenceUpload {
  kind: 'presence';
  vin: string;
  online: boolean;
  sinceMs: number;
  bootId: string;
  /** "shutdown" for a clean stop, "" for the last will. */
  reason: string;
}

export interface DoorState {
  name: string;
  open: boolean;
  locked: boolean;
}

export interface StatusUpload {
  kind: 'status';
  vin: string;
  timeMs: number;
  position?: PositionFix;
  speedKmh: number;
  fuelLevelPct: number;
  batterySocPct: number;
  /** Autonomy. */
  rangeKm: number;
  odometerKm: number;
  /** "OFF", "ACC", "ON" or "" (unspecified). */
  ignition: string;
  doors: DoorState[];
  locked: boolean;
  seq: number;
}

export interface SamplesUpload {
  kind: 'samples';
  vin: string;
  epoch: string;
  stream: string;
  /** Sequence number of the first sample (column order), and the count. */
  firstSeq: number;
  /** SampleBatch.signal_table (0: the vehicle's latest). */
  signalTable: number;
  /** The regular rule that produced them ("" when none). */
  rule: string;
  /** Decoded columns (decodeSampleChunk): integer values on each signal's grid. */
  columns: SampleColumns;
}

/** Event kinds, as the Event oneof names them. */
export const EVENT_KINDS = ['trip', 'collision', 'alert', 'maintenance', 'geofence', 'rule_trigger', 'ignition', 'threshold'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface TripFields {
  tripId: string;
  departureMs: number;
  arrivalMs: number;
  departure?: PositionFix;
  arrival?: PositionFix;
  distanceKm: number;
  /** "ODOMETER", "INTEGRATED_SPEED" or "". */
  distanceSource: string;
  durationS: number;
  maxSpeedKmh: number;
  avgSpeedKmh: number;
  fuelUsedL: number;
  energyUsedKwh: number;
}

export interface EventUpload {
  kind: 'event';
  vin: string;
  epoch: string;
  stream: string;
  /** The record's sequence number (user property `seq`, else Event.seq); 0: none (not deduplicated). */
  seq: number;
  timeMs: number;
  /** "LOW", "NORMAL", "HIGH", "CRITICAL" or "". */
  priority: string;
  eventKind: EventKind;
  /**
   * The kind's body as JSON (message-json.ts form: RFC 3339 times, GeoJSON positions, windows as
   * named samples), e.g. a collision's preWindow/postWindow.
   */
  detail: Record<string, unknown>;
  /** Geofence and threshold events: the monitor whose transition this is. */
  monitorId?: string;
  /** Where it happened, when the kind has a position. */
  position?: PositionFix;
  /** Trip events: the trip's typed fields. */
  trip?: TripFields;
}

/** Command states as the wire names them (CommandState without the prefix), plus "PENDING" before any answer. */
export type CommandState = 'PENDING' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'TIMEOUT' | 'REJECTED' | 'UNSPECIFIED';

export interface CommandResponseUpload {
  kind: 'command-response';
  vin: string;
  commandId: string;
  state: CommandState;
  reason: string;
  detail: string;
  timeMs: number;
}

export interface RulesAckUpload {
  kind: 'rules-ack';
  vin: string;
  version: number;
  accepted: boolean;
  error: string;
  activeVersion: number;
}

export type Upload = CheckinUpload | PresenceUpload | StatusUpload | SamplesUpload | EventUpload | CommandResponseUpload | RulesAckUpload;

/** What applying one upload did. */
export interface UploadOutcome {
  /** Sequence numbers (samples) or records written. */
  written: number;
  /** Sequence numbers already stored (a replay), not written again. */
  duplicates: number;
  /** Samples whose signal id was not in the vehicle's signal table (stored under the name "#<id>"). */
  unknownSignals: number;
  /** Set when the store refused the upload (e.g. a command response for another vehicle's command): why. */
  rejected?: string;
}
