/**
 * Keyset paging: a page's `next` cursor is the sort key of its last item (base64url JSON), and the
 * next page starts after it. Cursors are opaque to API clients; a malformed one is a StoreError.
 */
import { StoreError, type Page } from './backend-store.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new StoreError(`limit must be an integer from 1 to ${MAX_LIMIT}, got ${limit}`);
  return limit;
}

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The key of a cursor, checked against the expected element types ('s' string, 'n' number). */
export function decodeCursor(cursor: string, shape: string): (string | number)[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new StoreError('malformed page cursor');
  }
  const ok = Array.isArray(key) && key.length === shape.length && key.every((v, i) => (shape[i] === 's' ? typeof v === 'string' : typeof v === 'number' && Number.isFinite(v)));
  if (!ok) throw new StoreError('malformed page cursor');
  return key as (string | number)[];
}

/** Items of one page from `rows` fetched with limit + 1: the extra row says another page exists. */
export function pageOf<R, T>(rows: R[], limit: number, map: (row: R) => T, keyOf: (row: R) => (string | number)[]): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { items: kept.map(map), ...(more ? { next: encodeCursor(keyOf(kept[kept.length - 1])) } : {}) };
}
