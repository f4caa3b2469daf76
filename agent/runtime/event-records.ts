/**
 * Turns what the rules engine and the features produce into the protobuf bytes the store keeps and the
 * uplink sends: roadlink.v1.Event (rule triggers, ignition changes, trips, collisions, alerts...) and
 * roadlink.v1.Status. Captured windows become SampleBatch on the signals' grids, encoded by the store's
 * own column codec so that windows and telemetry share one encoding.
 */
import { Event, SampleBatch, Status, type IEvent, type IPosition, type ISignalDescriptor, type IStatus } from '../../proto/gen/roadlink.js';
import type { FeatureEvent } from '../rules/features/index.js';
import { toMs } from '../rules/features/feature.js';
import type { CapturedWindow, EventTrigger } from '../rules/rule-output.js';
import { SampleChunkEncoder } from '../../wire/sample-chunk.js';

/** roadlink.v1.Ignition numbers. */
const IGNITION_OFF = 1;
const IGNITION_ON = 3;

export class EventRecords {
  private readonly encoder = new SampleChunkEncoder();

  constructor(
    private readonly grids: readonly ISignalDescriptor[],
    /** The last known position, for ignition events. */
    private readonly position: () => IPosition | null,
  ) {}

  /** A rule's event trigger (or a built-in ignition event) as Event bytes. */
  trigger(trigger: EventTrigger): Uint8Array {
    const event: IEvent = { timeMs: toMs(trigger.timeUs), priority: trigger.priority };
    if (trigger.kind === 'rule') {
      event.ruleTrigger = { rule: trigger.rule, values: finiteValues(trigger.values), window: this.window(trigger.window) };
    } else {
      event.ignition = { ignition: trigger.kind === 'ignition_on' ? IGNITION_ON : IGNITION_OFF, position: this.position() };
    }
    return Event.encode(event).finish();
  }

  /** A feature's record as Event bytes (status records go through status()). */
  feature(record: Exclude<FeatureEvent, { kind: 'status' }>): Uint8Array {
    const event: IEvent = { timeMs: toMs(record.timeUs), priority: record.priority };
    switch (record.kind) {
      case 'collision': {
        const { preWindow, postWindow, ...collision } = record.collision;
        event.collision = { ...collision, preWindow: this.window(preWindow), postWindow: this.window(postWindow) };
        break;
      }
      case 'trip': event.trip = record.trip; break;
      case 'alert': event.alert = record.alert; break;
      case 'maintenance': event.maintenance = record.maintenance; break;
      case 'geofence': event.geofence = record.geofence; break;
      case 'threshold': event.threshold = record.threshold; break;
    }
    return Event.encode(event).finish();
  }

  status(status: IStatus): Uint8Array {
    return Status.encode(status).finish();
  }

  /** A captured window as a SampleBatch message (values on each signal's grid). */
  window(window: CapturedWindow | null): SampleBatch | null {
    if (!window) return null;
    let count = 0;
    for (const times of window.timeUs) count += times.length;
    if (count === 0) return null;
    const signal = new Uint32Array(count);
    const timeMs = new Float64Array(count);
    const raw = new Float64Array(count);
    let k = 0;
    window.signals.forEach((id, s) => {
      const grid = this.grids[id];
      const times = window.timeUs[s];
      const values = window.value[s];
      for (let i = 0; i < times.length; i++, k++) {
        signal[k] = id;
        timeMs[k] = toMs(times[i]);
        raw[k] = Math.round((values[i] - (grid?.offset ?? 0)) / (grid?.scale || 1));
      }
    });
    const bytes = this.encoder.encodeArrivals({ firstSeq: 0, priority: 0, rule: '' }, count, signal, timeMs, raw);
    return SampleBatch.decode(bytes);
  }
}

/** proto3 doubles carry NaN, but a map value of NaN only confuses the backend: unknown values are left out. */
function finiteValues(values: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(values)) if (Number.isFinite(value)) out[name] = value;
  return out;
}
