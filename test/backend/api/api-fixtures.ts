/**
 * The API under test: a real store (SQLite file or PostgreSQL database), the Fastify server, keys of
 * each scope, and a request helper that validates EVERY response against the OpenAPI document.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { createApiKey } from '../../../backend/api/auth.js';
import { createApiServer } from '../../../backend/api/server.js';
import type { ApiContext } from '../../../backend/api/api-context.js';
import type { BackendStore } from '../../../backend/db/backend-store.js';
import type { EventUpload } from '../../../backend/db/uploads.js';
import { openPostgresStore, openSqliteStore } from '../../../backend/db/open-store.js';
import { Postgres } from '../../helpers/postgres.js';
import { alertEvent, checkin, speedSamples, status, T0, tripEvent, VIN, VIN_2 } from '../store-fixtures.js';
import { validateResponse } from './openapi-validator.js';

export type Dialect = 'sqlite' | 'postgres';

/** Opens fresh stores of either dialect; one PostgreSQL server per test file, started on first use. */
export class StoreFactory {
  private postgres: Postgres | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'roadlink-api-test-'));
  private counter = 0;
  private readonly stores: BackendStore[] = [];

  async open(dialect: Dialect): Promise<BackendStore> {
    const n = ++this.counter;
    let store: BackendStore;
    if (dialect === 'sqlite') store = await openSqliteStore(join(this.dir, `api-${n}.db`));
    else {
      this.postgres ??= await Postgres.start();
      store = await openPostgresStore(await this.postgres.createDatabase(`api_${n}`));
    }
    this.stores.push(store);
    return store;
  }

  async dispose(): Promise<void> {
    for (const store of this.stores.splice(0)) await store.close();
    await this.postgres?.dispose();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface ApiResult {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export class ApiClient {
  constructor(readonly app: FastifyInstance) {}

  /** One request; the response is checked against the OpenAPI document before it is returned. */
  async call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiResult> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const response = await this.app.inject({
      method,
      url,
      headers,
      ...(options.body !== undefined ? { payload: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
      ...(options.body !== undefined && !headers['content-type'] ? { headers: { ...headers, 'content-type': 'application/json' } } : {}),
    });
    const body = validateResponse({ method, url, status: response.statusCode, contentType: response.headers['content-type'] as string | undefined, body: response.body });
    return { status: response.statusCode, headers: response.headers, body };
  }

  get(url: string, token?: string): Promise<ApiResult> {
    return this.call('GET', url, { token });
  }
}

export interface Tokens {
  /** read + remote, every vehicle. */
  admin: string;
  /** read only, every vehicle. */
  reader: string;
  /** read + remote, VIN only. */
  scoped: string;
}

export async function makeTokens(store: BackendStore): Promise<Tokens> {
  return {
    admin: (await createApiKey(store, { name: 'admin', scopes: ['read', 'remote'] })).token,
    reader: (await createApiKey(store, { name: 'reader', scopes: ['read'] })).token,
    scoped: (await createApiKey(store, { name: 'one-car', scopes: ['read', 'remote'], vins: [VIN] })).token,
  };
}

export function collisionEvent(seq: number, timeMs: number): EventUpload {
  const position = { lat: 48.86, lon: 2.34, altM: 0, headingDeg: 10, speedKmh: 38, timeMs, source: 'GNSS' };
  return {
    kind: 'event', vin: VIN, epoch: '', stream: 'events', seq, timeMs, priority: 'CRITICAL', eventKind: 'collision', position,
    detail: {
      position: { type: 'Point', coordinates: [2.34, 48.86] }, speedKmh: 38, trigger: 'acceleration', peakAccelG: 4.2,
      preWindow: { samples: [{ signal: 'Vehicle.Speed', time: new Date(timeMs - 1000).toISOString(), value: 40 }] },
      postWindow: { samples: [{ signal: 'Vehicle.Speed', time: new Date(timeMs + 1000).toISOString(), value: 0 }] },
    },
  };
}

export function maintenanceEvent(seq: number, timeMs: number): EventUpload {
  return { kind: 'event', vin: VIN, epoch: '', stream: 'events', seq, timeMs, priority: 'LOW', eventKind: 'maintenance', detail: { daysToService: 12, distanceToServiceKm: 800 } };
}

/** Two vehicles; VIN with samples (speed + position), 3 alerts, 3 trips, a collision, maintenance, a status. */
export async function seedFleet(store: BackendStore): Promise<void> {
  await store.applyUploads([checkin(VIN), checkin(VIN_2)]);
  await store.applyUploads([
    speedSamples(1, 50, { withPosition: true }),
    alertEvent(1), alertEvent(2), alertEvent(3),
    tripEvent(4, T0), tripEvent(5, T0 + 3_600_000), tripEvent(6, T0 + 7_200_000),
    collisionEvent(7, T0 + 2_000), maintenanceEvent(8, T0 + 3_000),
    status(T0 + 5_000, 12_345.6),
  ]);
}

export interface ApiSetup {
  store: BackendStore;
  client: ApiClient;
  tokens: Tokens;
}

export async function startApi(store: BackendStore, context: Partial<ApiContext> = {}): Promise<ApiSetup> {
  const app = createApiServer({ store, ...context });
  await app.ready();
  return { store, client: new ApiClient(app), tokens: await makeTokens(store) };
}

export const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

export function expectProblemNaming(result: ApiResult, status: number, field: string): void {
  expect(result.status).toBe(status);
  expect(result.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(result.body['invalid-params']?.map((p: { name: string }) => p.name)).toContain(field);
}

/** Polls `probe` until it returns a value other than undefined (or fails after `timeoutMs`). */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
