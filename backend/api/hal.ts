/** HAL links and pages: `_links` (self, first, next, prev, vehicle), `_embedded` for the items. */
import type { Page } from '../db/backend-store.js';
import { encodeTrail } from './query-params.js';

export type Links = Record<string, { href: string }>;

export const vehiclePath = (vin: string): string => `/vehicles/${encodeURIComponent(vin)}`;

/** `path` with its query string, `changes` applied (undefined removes a parameter). */
export function withQuery(path: string, query: Record<string, string | undefined>, changes: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...query, ...changes })) if (v !== undefined) params.set(k, v);
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export interface PageRequest {
  /** The request's path (without query). */
  path: string;
  /** The request's query parameters (single values). */
  query: Record<string, string | undefined>;
  /** Store cursors that led here (decodeTrail); empty on the first page. */
  trail: readonly string[];
}

/** A HAL page of `rel` items from a store page. */
export function halPage<T>(page: Page<T>, rel: string, request: PageRequest, extraLinks: Links = {}): Record<string, unknown> {
  const { path, query, trail } = request;
  const self = withQuery(path, query);
  const links: Links = { self: { href: self }, first: { href: withQuery(path, query, { cursor: undefined }) }, ...extraLinks };
  if (page.next !== undefined) links.next = { href: withQuery(path, query, { cursor: encodeTrail([...trail, page.next]) }) };
  if (trail.length > 0) {
    const back = trail.slice(0, -1);
    links.prev = { href: withQuery(path, query, { cursor: back.length > 0 ? encodeTrail(back) : undefined }) };
  }
  return { _links: links, count: page.items.length, _embedded: { [rel]: page.items } };
}
