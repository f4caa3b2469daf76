/**
 * The agent as a systemd `Type=notify` service with a watchdog (cross-build/systemd/roadlink.service):
 * - READY=1 once the agent has opened its store and buses (call ready() after Agent.start);
 * - STATUS= a one-line summary, refreshed when it changes, and the problems while unhealthy;
 * - WATCHDOG=1 every half watchdog interval, but only while the agent's own health holds
 *   (health.ts: event loop, store commits, drivers). A single bad check skips one ping, so a
 *   transient stall is tolerated; when the problem lasts a whole WatchdogSec= systemd kills and
 *   restarts the agent (Restart=always), which is the cure for a wedged process;
 * - STOPPING=1 when a shutdown begins (call stopping()).
 * Without $NOTIFY_SOCKET start() returns undefined and the agent runs as before.
 */
import type { CanDriver } from '../../drivers/can/can-driver.js';
import { HealthMonitor, type HealthBounds } from './health.js';
import type { Logger } from '../../wire/log.js';
import { SystemdNotifier, type NotifyEnvironment } from './sd-notify.js';

/** The parts of the Agent (agent.ts) the service reads. */
export interface ServiceAgent {
  readonly store: { stats(): { commitErrors: number; pendingSamples: number; pendingRecords: number; pendingSinceMs: number; storedRows: number } };
  readonly drivers: { readonly all: readonly CanDriver[] };
  readonly uplink?: { stats(): { connected: boolean } } | undefined;
  readonly config: { storage: { commitIntervalMs: number } };
}

/** How often STATUS= is refreshed when there is no watchdog to pace the checks. */
const STATUS_INTERVAL_MS = 10_000;

/** The health bounds for a watchdog timeout (or none): a stall may take a quarter of it, at least 1 s. */
export function healthBounds(watchdogMs: number | undefined, commitIntervalMs: number): HealthBounds {
  return {
    maxLoopLagMs: Math.round(Math.min(10_000, Math.max(1000, (watchdogMs ?? 40_000) / 4))),
    maxCommitStallMs: Math.round(Math.max(3 * commitIntervalMs, (watchdogMs ?? 20_000) / 2)),
    checkIntervalMs: checkIntervalMs(watchdogMs),
  };
}

/** Half the watchdog timeout (a ping per check), or STATUS_INTERVAL_MS without a watchdog. */
function checkIntervalMs(watchdogMs: number | undefined): number {
  return watchdogMs !== undefined ? watchdogMs / 2 : STATUS_INTERVAL_MS;
}

export class SystemdService {
  private readonly monitor: HealthMonitor;
  private readonly timer: NodeJS.Timeout;
  private lastStatus = '';
  private unhealthy = false;
  private stopped = false;

  private constructor(
    private readonly agent: ServiceAgent,
    private readonly notifier: SystemdNotifier,
    private readonly log: Logger,
  ) {
    const watchdogMs = notifier.watchdogMs;
    this.monitor = new HealthMonitor(
      { store: () => agent.store.stats(), drivers: () => agent.drivers.all },
      healthBounds(watchdogMs, agent.config.storage.commitIntervalMs),
    );
    this.timer = setInterval(() => this.tick(), this.monitor.bounds.checkIntervalMs);
    this.timer.unref();
    const bounds = this.monitor.bounds;
    log('info', `systemd: notifying ${notifier.socket}${watchdogMs !== undefined ? `, watchdog ${watchdogMs} ms (pings every ${watchdogMs / 2} ms while the event loop lags under ${bounds.maxLoopLagMs} ms, commits progress within ${bounds.maxCommitStallMs} ms and every driver is alive)` : ', no watchdog'}`);
  }

  /** The service systemd asks for in `env`, or undefined without $NOTIFY_SOCKET. Throws when the addon does not load. */
  static start(agent: ServiceAgent, log: Logger, env: NotifyEnvironment = process.env): SystemdService | undefined {
    const notifier = SystemdNotifier.fromEnvironment(env, (level, message) => log(level, `systemd: ${message}`));
    return notifier && new SystemdService(agent, notifier, log);
  }

  /** The agent is up: READY=1, the first STATUS= and, with a watchdog, the first ping. */
  ready(): void {
    this.lastStatus = this.summary();
    this.notifier.notify({ READY: 1, STATUS: this.lastStatus, ...(this.notifier.watchdogMs !== undefined ? { WATCHDOG: 1 } : {}) });
  }

  /** A shutdown begins: STOPPING=1; no more pings. */
  stopping(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.notifier.notify({ STOPPING: 1, STATUS: `stopping (${reason})` });
  }

  close(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.monitor.close();
  }

  stats(): { sent: number; failed: number; unhealthy: boolean } {
    return { sent: this.notifier.sent, failed: this.notifier.failed, unhealthy: this.unhealthy };
  }

  private tick(): void {
    if (this.stopped) return;
    const problems = this.monitor.check();
    if (problems.length > 0) {
      const status = `unhealthy: ${problems.join('; ')}`;
      if (!this.unhealthy) this.log('warn', `systemd: watchdog pings withheld: ${problems.join('; ')}`);
      this.unhealthy = true;
      this.lastStatus = status;
      this.notifier.notify({ STATUS: status });
      return;
    }
    if (this.unhealthy) this.log('info', 'systemd: healthy again, watchdog pings resumed');
    this.unhealthy = false;
    const fields: Record<string, string | number> = {};
    if (this.notifier.watchdogMs !== undefined) fields.WATCHDOG = 1;
    const status = this.summary();
    if (status !== this.lastStatus) fields.STATUS = this.lastStatus = status;
    if (Object.keys(fields).length > 0) this.notifier.notify(fields);
  }

  private summary(): string {
    const { agent } = this;
    const states = agent.drivers.all.map((d) => d.health?.().state ?? 'reading');
    const count = (state: string) => states.filter((s) => s === state).length;
    const drivers = ['reading', 'reopening', 'ended'].filter((s) => count(s) > 0).map((s) => `${count(s)} ${s}`).join(', ');
    const uplink = agent.uplink ? (agent.uplink.stats().connected ? 'uplink connected' : 'uplink offline') : 'no uplink';
    return `running: drivers ${drivers || 'none'}; ${agent.store.stats().storedRows} rows stored; ${uplink}`;
  }
}
