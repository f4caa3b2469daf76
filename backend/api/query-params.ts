/**
 * Query parameters, checked: RFC 3339 times, page sizes, page cursors, required strings. Each
 * failure is an ApiProblem 400 naming the parameter and why.
 */
import { ApiProblem } from './problem.js';

export type Query = Record<string, string | string[] | undefined>;

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** One value of a parameter (a repeated one is refused). */
export function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw ApiProblem.invalid(name, 'query', 'given more than once');
  return value;
}

export function requiredString(query: Query, name: string): string {
  const value = single(query, name);
  if (value === undefined || value === '') throw ApiProblem.invalid(name, 'query', 'is required');
  return value;
}

/** RFC 3339 date-time → Unix ms. */
export function parseTime(text: string, name: string, where: 'query' | 'body' = 'query'): number {
  const ms = RFC3339.test(text) ? Date.parse(text.toUpperCase()) : NaN;
  if (Number.isNaN(ms)) throw ApiProblem.invalid(name, where, `'${text.slice(0, 40)}' is not an RFC 3339 date-time (like 2026-01-15T08:00:00Z)`);
  return ms;
}

export function optionalTime(query: Query, name: string): number | undefined {
  const text = single(query, name);
  return text === undefined ? undefined : parseTime(text, name);
}

/** `from`/`to` (half-open); `to` must be after `from`. */
export function timeRange(query: Query, defaults: { fromMs?: number; toMs?: number } = {}): { fromMs?: number; toMs?: number } {
  const fromMs = optionalTime(query, 'from') ?? defaults.fromMs;
  const toMs = optionalTime(query, 'to') ?? defaults.toMs;
  if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) throw ApiProblem.invalid('to', 'query', 'must be after from');
  return { fromMs, toMs };
}

export function limitParam(query: Query, max: number, fallback: number): number {
  const text = single(query, 'limit');
  if (text === undefined) return fallback;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= max)) throw ApiProblem.invalid('limit', 'query', `must be an integer from 1 to ${max}, got '${text.slice(0, 20)}'`);
  return n;
}

/** `skip`: how many items at exactly `from` to pass over (set by a time-paged `next` link); 0..max. */
export function skipParam(query: Query, max: number): number {
  const text = single(query, 'skip');
  if (text === undefined) return 0;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= max)) throw ApiProblem.invalid('skip', 'query', `must be an integer from 0 to ${max}, got '${text.slice(0, 20)}'`);
  return n;
}

/**
 * The API's page cursor: the trail of store cursors that led to this page (base64url JSON), so
 * that a page can link back to the previous one although the store pages forwards only.
 */
export function decodeTrail(query: Query): string[] {
  const text = single(query, 'cursor');
  if (text === undefined) return [];
  let trail: unknown;
  try {
    trail = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    trail = undefined;
  }
  if (!Array.isArray(trail) || trail.length === 0 || !trail.every((c) => typeof c === 'string')) {
    throw ApiProblem.invalid('cursor', 'query', 'is not a cursor from a next/prev link');
  }
  return trail as string[];
}

export function encodeTrail(trail: readonly string[]): string {
  return Buffer.from(JSON.stringify(trail)).toString('base64url');
}
