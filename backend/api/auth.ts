/**
 * Bearer API keys: `Authorization: Bearer <token>`. Tokens are random (`rlk_` + 32 bytes base64url);
 * the store keeps only their SHA-256 (BackendStore.createApiKey / apiKeyByToken). A key is scoped to
 * some vehicles (or all) and to `read` and/or `remote` (remote actions, monitor changes).
 */
import { randomBytes } from 'node:crypto';
import type { ApiKeyRecord, BackendStore } from '../db/backend-store.js';
import { ApiProblem } from './problem.js';

export type Scope = 'read' | 'remote';
export const SCOPES: readonly Scope[] = ['read', 'remote'];

export interface CreatedKey {
  record: ApiKeyRecord;
  /** Shown once; not recoverable from the store. */
  token: string;
}

export interface KeyRequest {
  name: string;
  scopes: readonly Scope[];
  /** Undefined: every vehicle. */
  vins?: readonly string[];
  nowMs?: number;
}

/** Parses `read,remote` into scopes; throws Error naming the bad one. */
export function parseScopes(text: string): Scope[] {
  const scopes = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (scopes.length === 0) throw new Error(`scope list is empty (use ${SCOPES.join(', ')})`);
  for (const s of scopes) if (!SCOPES.includes(s as Scope)) throw new Error(`unknown scope '${s}' (use ${SCOPES.join(', ')})`);
  return scopes as Scope[];
}

export async function createApiKey(store: BackendStore, request: KeyRequest): Promise<CreatedKey> {
  const token = `rlk_${randomBytes(32).toString('base64url')}`;
  const record = await store.createApiKey({
    id: `key_${randomBytes(8).toString('hex')}`,
    name: request.name,
    token,
    vins: request.vins ? [...request.vins] : undefined,
    canRead: request.scopes.includes('read'),
    canRemote: request.scopes.includes('remote'),
    createdMs: request.nowMs ?? Date.now(),
  });
  return { record, token };
}

/**
 * Tokens → keys, remembered for `ttlMs` (default 5 s) so that a request costs one database query,
 * not two; a revoked key stops working within that time. Unknown tokens are not remembered.
 */
export class KeyResolver {
  private readonly cache = new Map<string, { key: ApiKeyRecord; untilMs: number }>();

  constructor(
    private readonly store: BackendStore,
    private readonly ttlMs = 5000,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The key a request presents; ApiProblem 401 without one or with an unknown/revoked one. */
  async authenticate(authorization: string | undefined): Promise<ApiKeyRecord> {
    if (!authorization) throw new ApiProblem(401, 'send the API key as `Authorization: Bearer <token>`');
    const match = /^Bearer +(\S+)\s*$/i.exec(authorization);
    if (!match) throw new ApiProblem(401, 'the Authorization header must be `Bearer <token>`', [{ name: 'Authorization', in: 'header', reason: 'not a Bearer token' }]);
    const token = match[1];
    const cached = this.cache.get(token);
    if (cached && cached.untilMs > this.now()) return cached.key;
    const key = await this.store.apiKeyByToken(token);
    if (!key) {
      this.cache.delete(token);
      throw new ApiProblem(401, 'unknown or revoked API key');
    }
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(token, { key, untilMs: this.now() + this.ttlMs });
    return key;
  }
}

/** The access one request has: checks scope and vehicle. */
export class Access {
  constructor(readonly key: ApiKeyRecord) {}

  /** undefined: every vehicle. */
  get vins(): readonly string[] | undefined {
    return this.key.vins;
  }

  canSee(vin: string): boolean {
    return this.key.vins === undefined || this.key.vins.includes(vin);
  }

  require(scope: Scope): void {
    const has = scope === 'read' ? this.key.canRead : this.key.canRemote;
    if (!has) throw new ApiProblem(403, `this API key lacks the '${scope}' scope`);
  }

  /** 403 when the vehicle is outside the key's set. */
  requireVehicle(vin: string, scope: Scope): void {
    this.require(scope);
    if (!this.canSee(vin)) throw new ApiProblem(403, `this API key does not cover vehicle ${vin}`);
  }
}
