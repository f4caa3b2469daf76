/**
 * Cache of each signal's grid (value = raw * scale + offset), filled lazily from the caller's
 * `signalGrid(id)` so the per-sample path is two typed-array reads. Ids below DENSE_LIMIT live in
 * growable arrays; larger ids (legal for uint32 but unusual) in a Map.
 */
export interface SignalGrid {
  scale: number;
  offset: number;
}

export type SignalGridLookup = (signalId: number) => SignalGrid;

const DENSE_LIMIT = 1 << 20;

export class SignalGrids {
  /** NaN = not looked up yet; 0 = looked up and unusable (samples are rejected). */
  private scale = new Float64Array(256).fill(NaN);
  private offset = new Float64Array(256);
  private readonly sparse = new Map<number, SignalGrid>();
  /** Reason of the last unusable grid, for error reports. */
  lastProblem = '';

  constructor(private lookup: SignalGridLookup) {}

  /** Forgets every cached grid; later samples use `lookup`. */
  replace(lookup: SignalGridLookup): void {
    this.lookup = lookup;
    this.scale.fill(NaN);
    this.sparse.clear();
  }

  /** raw = round((value - offset) / scale); NaN when the grid is unusable (see lastProblem). */
  toRaw(signalId: number, value: number): number {
    if (signalId < DENSE_LIMIT) {
      let scale = signalId < this.scale.length ? this.scale[signalId] : NaN;
      if (scale !== scale) scale = this.load(signalId);
      return scale === 0 ? NaN : Math.round((value - this.offset[signalId]) / scale);
    }
    let grid = this.sparse.get(signalId);
    if (grid === undefined) {
      grid = this.fetch(signalId);
      this.sparse.set(signalId, grid);
    }
    return grid.scale === 0 ? NaN : Math.round((value - grid.offset) / grid.scale);
  }

  private load(signalId: number): number {
    if (signalId >= this.scale.length) {
      let size = this.scale.length;
      while (size <= signalId) size *= 2;
      const scale = new Float64Array(size).fill(NaN);
      const offset = new Float64Array(size);
      scale.set(this.scale);
      offset.set(this.offset);
      this.scale = scale;
      this.offset = offset;
    }
    const grid = this.fetch(signalId);
    this.scale[signalId] = grid.scale;
    this.offset[signalId] = grid.offset;
    return grid.scale;
  }

  /** The caller's grid, or scale 0 (reject) when it is missing or not finite. */
  private fetch(signalId: number): SignalGrid {
    let grid: SignalGrid | undefined;
    try {
      grid = this.lookup(signalId);
    } catch (err) {
      this.lastProblem = `signalGrid(${signalId}) threw: ${(err as Error).message}`;
      return { scale: 0, offset: 0 };
    }
    const ok = grid && Number.isFinite(grid.scale) && grid.scale !== 0 && Number.isFinite(grid.offset);
    if (!ok) {
      this.lastProblem = `signalGrid(${signalId}) gave no usable grid (${JSON.stringify(grid)})`;
      return { scale: 0, offset: 0 };
    }
    return { scale: grid.scale, offset: grid.offset };
  }
}
