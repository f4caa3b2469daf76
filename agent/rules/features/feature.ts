/**
 * The contract between the vehicle features (trip, collision, alerts, maintenance, status, monitors)
 * and the agent that feeds them.
 *
 * Input: batches of decoded samples, struct of arrays (the decoder's SampleBatch columns), by signal id.
 * A feature cares about a few signals; it routes ids through a SignalSlots table (no string lookup, no
 * allocation per sample). `tick(nowUs)` runs timers (debounce, dwell, post-crash window, periods) and
 * must be called about once a second with a time on the sample clock (live: Date.now() * 1000; replay:
 * the replay's clock).
 *
 * Output: records shaped like the protobufjs types of roadlink.v1 (proto/gen/roadlink.ts), so the
 * agent encodes them directly: `Event.create({ seq, timeMs, priority, [e.kind]: e[e.kind] })`.
 * Exceptions: `status` goes to the status topic (not an Event), and a collision's windows are
 * CapturedWindow (the rules engine's form) that the agent turns into SampleBatch like rule windows.
 */
import type { IAlert, IGeofenceTransition, IMaintenance, IPosition, IStatus, IThresholdCrossing, ITrip } from '../../../proto/gen/roadlink.js';
import type { CapturedWindow } from '../rule-output.js';
import type { SignalHistory } from '../signal-history.js';
import { type PriorityLevel } from '../../../wire/priority.js';


/** roadlink.v1.Ignition numbers. */
export const Ignition = { UNSPECIFIED: 0, OFF: 1, ACC: 2, ON: 3 } as const;
export type IgnitionState = (typeof Ignition)[keyof typeof Ignition];

/** roadlink.v1.PositionSource numbers. */
export const PositionSource = { UNSPECIFIED: 0, CAN: 1, GNSS: 2 } as const;
export type PositionSourceValue = (typeof PositionSource)[keyof typeof PositionSource];

/** roadlink.v1.DistanceSource numbers. */
export const DistanceSource = { UNSPECIFIED: 0, ODOMETER: 1, INTEGRATED_SPEED: 2 } as const;

/** roadlink.v1.Collision, with the windows as captured samples (encoded by the agent like rule windows). */
export interface CollisionRecord {
  position: IPosition | null;
  speedKmh: number;
  trigger: 'airbag' | 'acceleration';
  peakAccelG: number;
  preWindow: CapturedWindow | null;
  postWindow: CapturedWindow | null;
}

interface EventBase {
  priority: PriorityLevel;
  /** Send now (the store wakes the uplink) rather than with the next batch. */
  immediate: boolean;
  /** When it happened on the sample clock, µs since the epoch (Event.time_ms = round(timeUs / 1000)). */
  timeUs: number;
}

export type FeatureEvent =
  | (EventBase & { kind: 'trip'; trip: ITrip })
  | (EventBase & { kind: 'collision'; collision: CollisionRecord })
  | (EventBase & { kind: 'alert'; alert: IAlert })
  | (EventBase & { kind: 'maintenance'; maintenance: IMaintenance })
  | (EventBase & { kind: 'geofence'; geofence: IGeofenceTransition })
  | (EventBase & { kind: 'threshold'; threshold: IThresholdCrossing })
  /** A status change: publish on the status topic (retained) and persist in the store's state table. */
  | (EventBase & { kind: 'status'; status: IStatus; reasons: StatusChange[] });

export type StatusChange = 'door' | 'lock' | 'ignition' | 'moved' | 'fuel' | 'charge' | 'heartbeat';

/** What the agent provides to the features. */
export interface FeatureContext {
  /** Signal id of a catalog name (VSS), or -1 when this vehicle has no such signal. */
  signalId(name: string): number;
  /** Catalog name of a signal id. */
  signalName(id: number): string;
  /**
   * Recent samples. The agent records every batch into it BEFORE calling Feature.onSamples, so that a
   * collision's pre-window includes the samples up to the trigger. Features call `retain()` for what they need.
   */
  history: SignalHistory;
  /** Where Vehicle.CurrentLocation.* come from on this vehicle (decoded CAN, or the GNSS driver). */
  positionSource: PositionSourceValue;
  emit(event: FeatureEvent): void;
}

export interface Feature {
  readonly name: string;
  /** Samples `0 .. count-1` of the batch, in time order. */
  onSamples(ids: Uint32Array, timesUs: Float64Array, values: Float64Array, count: number): void;
  tick(nowUs: number): void;
}

/** Samples carry µs; records carry ms. */
export function toMs(timeUs: number): number {
  return Math.round(timeUs / 1000);
}
