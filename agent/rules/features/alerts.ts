/**
 * Warning and diagnostic alerts (oil pressure, engine, brakes, tyre pressure...): an alert is raised
 * when its condition has held for `debounceS`, and cleared when it has stopped holding for
 * `clearDebounceS`. One record per raise and one per clear, never repeated while the state stays.
 * A condition already true when the agent starts is raised (after the debounce) like any other.
 */
import { ConfirmedState } from './confirmed-state.js';
import { type FeatureContext } from './feature.js';
import { RoutedFeature } from './routed-feature.js';
import { SignalSlots } from './signal-slots.js';
import { type AlertSeverity, type AlertConfig } from '../../config/sections/feature-settings.js';
import { Priority, type PriorityLevel } from '../../../wire/priority.js';



const SEVERITY_PRIORITY: Record<AlertSeverity, PriorityLevel> = { info: Priority.low, warning: Priority.normal, critical: Priority.high };

interface AlertState {
  config: AlertConfig;
  holds: (v: number) => boolean;
  state: ConfirmedState;
  value: number;
}

function condition(c: AlertConfig): (v: number) => boolean {
  if (c.equals !== undefined) {
    const x = c.equals;
    return (v) => v === x;
  }
  if (c.above !== undefined) {
    const x = c.above;
    return (v) => v > x;
  }
  if (c.below !== undefined) {
    const x = c.below;
    return (v) => v < x;
  }
  throw new Error(`alert ${c.code}: needs one of equals, above or below`);
}

export class AlertsFeature extends RoutedFeature {
  readonly name = 'alerts';
  private readonly alerts: AlertState[];

  constructor(
    private readonly ctx: FeatureContext,
    configs: readonly AlertConfig[],
  ) {
    super();
    this.alerts = configs.map((config) => ({
      config,
      holds: condition(config),
      state: new ConfirmedState(config.debounceS * 1e6, config.clearDebounceS * 1e6, 0),
      value: NaN,
    }));
    this.slots = new SignalSlots(configs.map((c) => ctx.signalId(c.signal)));
  }

  /** Codes of the alerts currently raised. */
  active(): string[] {
    return this.alerts.filter((a) => a.state.value === 1).map((a) => a.config.code);
  }

  protected onSample(slot: number, t: number, v: number): void {
    const a = this.alerts[slot];
    a.value = v;
    if (a.state.observe(a.holds(v), t)) this.emit(a);
  }

  override tick(nowUs: number): void {
    for (const a of this.alerts) if (a.state.check(nowUs)) this.emit(a);
  }

  private emit(a: AlertState): void {
    const c = a.config;
    const active = a.state.value === 1;
    this.ctx.emit({
      kind: 'alert',
      priority: SEVERITY_PRIORITY[c.severity],
      immediate: c.severity === 'critical' && active,
      timeUs: a.state.changedAtUs,
      alert: { code: c.code, active, severity: c.severity, signal: c.signal, value: a.value, message: c.message },
    });
  }
}
