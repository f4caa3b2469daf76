/**
 * The per-sample loop every feature shares: route each sample id through the feature's SignalSlots
 * and hand the known values of its signals to `onSample(slot, timeUs, value)`. Two typed-array reads
 * per sample for signals the feature ignores; no allocation.
 */
import type { Feature } from './feature.js';
import { SignalSlots } from './signal-slots.js';

export abstract class RoutedFeature implements Feature {
  abstract readonly name: string;
  protected slots = new SignalSlots([]);

  onSamples(ids: Uint32Array, timesUs: Float64Array, values: Float64Array, count: number): void {
    const slots = this.slots;
    for (let i = 0; i < count; i++) {
      for (let slot = slots.slotOf(ids[i]); slot >= 0; slot = slots.next(slot)) {
        const v = values[i];
        if (v === v) this.onSample(slot, timesUs[i], v); // NaN: the value is unknown
      }
    }
  }

  tick(_nowUs: number): void {}

  /** One known value of the signal in `slot` (slots are the order the feature gave its signal names). */
  protected abstract onSample(slot: number, timeUs: number, value: number): void;
}
