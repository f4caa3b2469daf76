import type { EventTrigger, RuleOutput } from '../../agent/rules/rule-output.js';
import { type PriorityLevel } from '../../wire/priority.js';

export interface CollectedSample {
  rule: string;
  stream: string;
  priority: PriorityLevel;
  signal: number;
  timeUs: number;
  value: number;
}

/** A RuleOutput that keeps everything it receives, for assertions. */
export class RuleOutputCollector implements RuleOutput {
  readonly samples: CollectedSample[] = [];
  readonly events: EventTrigger[] = [];

  sample(rule: string, stream: string, priority: PriorityLevel, signal: number, timeUs: number, value: number): void {
    this.samples.push({ rule, stream, priority, signal, timeUs, value });
  }

  event(trigger: EventTrigger): void {
    this.events.push(trigger);
  }

  samplesOf(rule: string, signal?: number): CollectedSample[] {
    return this.samples.filter((s) => s.rule === rule && (signal === undefined || s.signal === signal));
  }

  eventsOf(rule: string): EventTrigger[] {
    return this.events.filter((e) => e.rule === rule);
  }
}
