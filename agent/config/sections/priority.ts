/** `priority: low | normal | high | critical`, shared by rules and monitors. */
import type { ObjectReader } from '../config-reader.js';
import { Priority, PRIORITY_NAMES, type PriorityLevel, type PriorityName } from '../../../wire/priority.js';

/** Reads `priority` → roadlink.v1.Priority number. */
export function readPriority(r: ObjectReader, fallback: PriorityName): PriorityLevel {
  return Priority[r.oneOf('priority', PRIORITY_NAMES, { default: fallback })];
}
