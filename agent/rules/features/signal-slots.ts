/**
 * Routes signal ids to a feature's local slots: id → first slot, slot → next slot with the same id
 * (several alerts may watch one signal). Two typed-array reads per sample, no allocation.
 */
export class SignalSlots {
  private readonly first: Int32Array;
  private readonly chain: Int32Array;

  /** `ids[slot]` is the signal id of each slot; ids < 0 (signal absent on this vehicle) are never routed. */
  constructor(ids: readonly number[]) {
    let max = -1;
    for (const id of ids) if (id > max) max = id;
    this.first = new Int32Array(max + 1).fill(-1);
    this.chain = new Int32Array(ids.length).fill(-1);
    for (let slot = ids.length - 1; slot >= 0; slot--) {
      const id = ids[slot];
      if (id < 0) continue;
      this.chain[slot] = this.first[id];
      this.first[id] = slot;
    }
  }

  /** First slot of `id`, or -1. */
  slotOf(id: number): number {
    return id < this.first.length ? this.first[id] : -1;
  }

  /** Next slot watching the same id as `slot`, or -1. */
  next(slot: number): number {
    return this.chain[slot];
  }
}
