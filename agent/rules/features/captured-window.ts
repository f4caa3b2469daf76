/** Builds the rules engine's CapturedWindow from the signal history (shared by features that keep windows). */
import type { CapturedWindow } from '../rule-output.js';
import type { FeatureContext } from './feature.js';

/** The ids of `names` that this vehicle has and the history can keep, retained for `seconds`. */
export function retainWindowSignals(ctx: FeatureContext, names: readonly string[], seconds: number): number[] {
  const ids: number[] = [];
  for (const name of names) {
    const id = ctx.signalId(name);
    if (id < 0 || id >= ctx.history.signalCount || ids.includes(id)) continue;
    ctx.history.retain(id, seconds);
    ids.push(id);
  }
  return ids;
}

export function captureWindow(ctx: FeatureContext, ids: readonly number[], fromUs: number, toUs: number): CapturedWindow {
  const w = ctx.history.window(ids, fromUs, toUs);
  return { ...w, names: w.signals.map((id) => ctx.signalName(id)) };
}
