/** `storage:` — the SQLite store-and-forward buffer. */
import { join } from 'node:path';
import { stateDir, type ValueNode } from '../config-reader.js';

/** No 'off': a power cut could then corrupt the database, and nothing stored may be lost. */
export const SYNCHRONOUS_MODES = ['normal', 'full'] as const;

export interface StorageConfig {
  /** Database file (absolute). */
  path: string;
  /** Size above which the lowest-priority, oldest unsent records are evicted. */
  quotaBytes: number;
  /** Longest time a sample waits in memory before its transaction is committed. */
  commitIntervalMs: number;
  /** Rows after which a transaction is committed even before the interval. */
  commitRows: number;
  /** SQLite PRAGMA synchronous. */
  synchronous: (typeof SYNCHRONOUS_MODES)[number];
}

export function readStorage(node: ValueNode): StorageConfig {
  const r = node.object();
  const storage: StorageConfig = {
    path: r?.path('path', { default: 'roadlink.db', state: true }) ?? join(stateDir(node.context), 'roadlink.db'),
    quotaBytes: r?.byteSize('quota', { default: 256e6, min: 1e6 }) ?? 256e6,
    commitIntervalMs: r?.duration('commit_interval', { default: 1000, minMs: 10 }) ?? 1000,
    commitRows: r?.number('commit_rows', { default: 5000, integer: true, min: 1 }) ?? 5000,
    synchronous: r?.oneOf('synchronous', SYNCHRONOUS_MODES, { default: 'normal' }) ?? 'normal',
  };
  r?.done();
  return storage;
}
