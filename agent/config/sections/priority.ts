/** `priority: low | normal | high | critical`, shared by rules and monitors. */
import type { ObjectReader } from '../config-reader.js';
import { PRIORITY_NAMES, Priority, type PriorityLevel, type PriorityName } from '../../rules/rule-output.js';

/** Reads `priority` → roadlink.v1.Priority number. */
export function readPriority(r: ObjectReader, fallback: PriorityName): PriorityLevel {
  return Priority[r.oneOf('priority', PRIORITY_NAMES, { default: fallback })];
}
