/**
 * Opening a store that may be corrupt without crash-looping.
 *
 * Trade-off: a corrupt file (SQLITE_CORRUPT, "file is not a database", failed quick_check) is moved
 * aside as `<path>.corrupt-<UTC timestamp>` (with its -wal/-shm) and an empty store is opened in its
 * place. The backlog in the damaged file is no longer sent (it is kept on disk for inspection, not
 * deleted), but the agent goes on recording instead of failing at every start. Files that are not
 * corrupt but unusable (permissions, locked by another process, a newer schema, another
 * application's database) are NOT moved: the StoreOpenError is rethrown.
 */
import { existsSync, readdirSync, renameSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Store, StoreOpenError, type StoreOptions } from './store.js';

export interface RecoveryLog {
  (message: string): void;
}

/** Store.open, but a corrupt file is moved aside (logged, counted in stats().recoveries) and a fresh store opened. */
export function openOrRecover(options: StoreOptions, log: RecoveryLog = (m) => console.warn(m)): Store {
  try {
    return Store.open(options);
  } catch (err) {
    if (!(err instanceof StoreOpenError) || !err.corrupt) throw err;
    const aside = moveAside(options.path);
    log(`roadlink store: ${err.message}; moved it to ${aside} and started an empty store`);
    const store = Store.open(options);
    store.setCounter('recoveries', countMovedAside(options.path));
    return store;
  }
}

function moveAside(path: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  let aside = `${path}.corrupt-${stamp}`;
  for (let n = 2; existsSync(aside); n++) aside = `${path}.corrupt-${stamp}-${n}`;
  // WAL and shared-memory files belong to the damaged file: moved with it, never applied to the new one.
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
  }
  renameSync(path, aside);
  return aside;
}

/** Damaged files moved aside from `path` and still present (the recovery count). */
function countMovedAside(path: string): number {
  const prefix = `${basename(path)}.corrupt-`;
  return readdirSync(dirname(path)).filter((f) => f.startsWith(prefix) && !f.endsWith('-wal') && !f.endsWith('-shm')).length;
}
