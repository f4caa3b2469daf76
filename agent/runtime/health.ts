/**
 * The agent's own health, as the systemd watchdog needs it (agent/runtime/systemd-service.ts): the
 * agent is healthy when
 * - its event loop runs: the longest timer delay since the last check (perf_hooks'
 *   monitorEventLoopDelay, and how late the check itself runs: right after a long block the check
 *   can run before the histogram's own timer has recorded it) is under `maxLoopLagMs`. A loop blocked outright sends nothing at all; this
 *   also catches a loop that keeps stalling between pings (a commit waiting on a locked file, a
 *   runaway computation);
 * - its store commits progress: nothing has waited for a commit longer than `maxCommitStallMs`
 *   (commits that keep failing or hang mean recorded data only piles up in memory); with nothing
 *   pending there is nothing to commit, and that is healthy;
 * - every driver is alive: reading, retrying an interface that went down, or at the end of a replay
 *   (drivers/can/can-driver.ts DriverHealth); failed or closed is not.
 * check() returns the problems, each one line of text; none means healthy.
 */
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import type { DriverHealth } from '../../drivers/can/can-driver.js';

export interface HealthSources {
  /** The store's counters (agent/store/store.ts StoreStats). */
  store(): { commitErrors: number; pendingSamples: number; pendingRecords: number; pendingSinceMs: number };
  drivers(): readonly { name: string; health?(): DriverHealth }[];
}

export interface HealthBounds {
  maxLoopLagMs: number;
  maxCommitStallMs: number;
  /** How often check() is called (its own lateness counts as loop lag); 0: not regularly. */
  checkIntervalMs: number;
}

export class HealthMonitor {
  private readonly loop: IntervalHistogram;
  private lastCheck = performance.now();

  constructor(
    private readonly sources: HealthSources,
    readonly bounds: HealthBounds,
    private readonly now: () => number = Date.now,
  ) {
    this.loop = monitorEventLoopDelay({ resolution: 20 });
    this.loop.enable();
  }

  /** Problems since the previous check (the loop measurement starts over at every call). */
  check(): string[] {
    const problems: string[] = [];
    const at = performance.now();
    const lateMs = this.bounds.checkIntervalMs > 0 ? at - this.lastCheck - this.bounds.checkIntervalMs : 0;
    this.lastCheck = at;
    const lagMs = Math.max(this.loop.max / 1e6, lateMs);
    this.loop.reset();
    if (lagMs > this.bounds.maxLoopLagMs) problems.push(`event loop stalled ${Math.round(lagMs)} ms (bound ${this.bounds.maxLoopLagMs} ms)`);
    const store = this.commitProblem();
    if (store) problems.push(store);
    for (const driver of this.sources.drivers()) {
      const health = driver.health?.() ?? { state: 'reading' };
      if (health.state === 'failed' || health.state === 'closed') {
        problems.push(`driver ${driver.name} ${health.state}${health.detail ? `: ${health.detail}` : ''}`);
      }
    }
    return problems;
  }

  close(): void {
    this.loop.disable();
  }

  private commitProblem(): string | undefined {
    const s = this.sources.store();
    if (s.pendingSinceMs === 0) return undefined;
    const stalledMs = this.now() - s.pendingSinceMs;
    if (stalledMs <= this.bounds.maxCommitStallMs) return undefined;
    return `store: ${s.pendingSamples} samples and ${s.pendingRecords} records waiting ${Math.round(stalledMs / 1000)} s for a commit (${s.commitErrors} failed commits so far)`;
  }
}
