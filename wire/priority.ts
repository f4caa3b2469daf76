/**
 * Record priorities, named for configs and code: roadlink.v1.Priority's numbers (common.proto), so a
 * stored record, an uploaded message and a rule's `priority:` agree. Higher goes first and is evicted last.
 */
import { Priority as WirePriority } from '../proto/gen/roadlink.js';

export const Priority = {
  low: WirePriority.PRIORITY_LOW,
  normal: WirePriority.PRIORITY_NORMAL,
  high: WirePriority.PRIORITY_HIGH,
  critical: WirePriority.PRIORITY_CRITICAL,
} as const;
export type PriorityName = keyof typeof Priority;
export type PriorityLevel = (typeof Priority)[PriorityName];
export const PRIORITY_NAMES = Object.keys(Priority) as PriorityName[];
