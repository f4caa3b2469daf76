/**
 * The agent's own health, as the systemd watchdog needs it (agent/runtime/systemd-service.ts): the
 * agent is healthy when
 * - its event loop runs: the longest timer delay since the last check (perf_hooks'
 *   monitorEventLoopDelay) is under `maxLoopLagMs`. A loop blocked outright sends nothing at all; this
 *   also catches a loop that keeps stalling between pings (a commit waiting on a locked file, a
 *   runaway computation);
 * - its store commits progress: while samples or records are pending, a commit succeeded within
 *   `maxCommitStallMs` (commits that keep failing or hang mean recorded data only piles up in memory);
 *   with nothing pending there is nothing to commit, and that is healthy;
 * - every driver is alive: reading, retrying an interface that went down, or at the end of a replay
 *   (drivers/can/can-driver.ts DriverHealth); failed or closed is not.
 * check() returns the problems, each one line of text; none means healthy.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { DriverHealth } from '../../drivers/can/can-driver.js';

export interface HealthSources {
  /** The store's counters (agent/store/store.ts StoreStats). */
  store(): { commits: number; commitErrors: number; pendingSamples: number; pendingRecords: number };
  drivers(): readonly { name: string; health?(): DriverHealth }[];
}

export interface HealthBounds {
  maxLoopLagMs: number;
  maxCommitStallMs: number;
}

export class HealthMonitor {
  private readonly loop: IntervalHistogram;
  private lastCommits = -1;
  private lastCommitMs: number;

  constructor(
    private readonly sources: HealthSources,
    readonly bounds: HealthBounds,
    private readonly now: () => number = Date.now,
  ) {
    this.loop = monitorEventLoopDelay({ resolution: 20 });
    this.loop.enable();
    this.lastCommitMs = now();
  }

  /** Problems since the previous check (the loop measurement starts over at every call). */
  check(): string[] {
    const problems: string[] = [];
    const lagMs = this.loop.max / 1e6;
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
    const now = this.now();
    if (s.commits !== this.lastCommits || (s.pendingSamples === 0 && s.pendingRecords === 0)) {
      this.lastCommits = s.commits;
      this.lastCommitMs = now;
      return undefined;
    }
    const stalledMs = now - this.lastCommitMs;
    if (stalledMs <= this.bounds.maxCommitStallMs) return undefined;
    return `store: no commit for ${Math.round(stalledMs / 1000)} s with ${s.pendingSamples} samples and ${s.pendingRecords} records pending (${s.commitErrors} failed commits so far)`;
  }
}
