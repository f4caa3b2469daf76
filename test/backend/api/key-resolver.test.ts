// Bearer keys are looked up by the SHA-256 of the token (the store's) and remembered for a few seconds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApiKey, KeyResolver, parseScopes } from '../../../backend/api/auth.js';
import { ApiProblem } from '../../../backend/api/problem.js';
import { openSqliteStore } from '../../../backend/db/open-store.js';

const dir = mkdtempSync(join(tmpdir(), 'roadlink-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('KeyResolver', () => {
  it('resolves a token, remembers it for ttlMs, and honours a revocation after that', async () => {
    const store = await openSqliteStore(join(dir, 'keys.db'));
    try {
      const { token, record } = await createApiKey(store, { name: 'k', scopes: ['read'] });
      let now = 1000;
      const keys = new KeyResolver(store, 5000, 100, () => now);
      expect((await keys.authenticate(`Bearer ${token}`)).id).toBe(record.id);
      expect(await store.revokeApiKey(record.id, now)).toBe(true);
      expect((await keys.authenticate(`Bearer ${token}`)).id).toBe(record.id); // within the TTL
      now += 5001;
      await expect(keys.authenticate(`Bearer ${token}`)).rejects.toMatchObject({ status: 401, message: 'unknown or revoked API key' });
      await expect(keys.authenticate(undefined)).rejects.toBeInstanceOf(ApiProblem);
      await expect(keys.authenticate(`Token ${token}`)).rejects.toMatchObject({ status: 401, invalidParams: [{ name: 'Authorization', in: 'header', reason: 'not a Bearer token' }] });
    } finally {
      await store.close();
    }
  });

  it('parses scope lists and names a bad one', () => {
    expect(parseScopes('read, remote')).toEqual(['read', 'remote']);
    expect(() => parseScopes('read,admin')).toThrow("unknown scope 'admin'");
    expect(() => parseScopes(',')).toThrow('empty');
  });
});
