/**
 * `roadlink backend` as the server: --create-key prints a token once, the server answers over real
 * HTTP with it (responses validated against the OpenAPI document), usage errors exit 2, and the
 * receiver's own options still select the JSON-lines receiver.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { isReceiverCommand } from '../../../apps/cli/backend.js';
import { runBackendServer } from '../../../apps/cli/backend-server.js';
import type { BackendService } from '../../../backend/api/backend-service.js';
import { openSqliteStore } from '../../../backend/db/open-store.js';
import { checkin, VIN } from '../store-fixtures.js';
import { validateResponse } from './openapi-validator.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'roadlink-backend-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function fetchValidated(url: string, path: string, token?: string) {
  const response = await fetch(`${url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const body = await response.text();
  return { status: response.status, body: validateResponse({ method: 'GET', url: path, status: response.status, contentType: response.headers.get('content-type') ?? undefined, body }) as Record<string, any> };
}

describe('roadlink backend (server)', () => {
  it('--create-key prints the token once; the server on a SQLite file answers with it over HTTP', async () => {
    const db = join(dir, 'backend.sqlite');
    const seed = await openSqliteStore(db);
    await seed.applyUploads([checkin(VIN)]);
    await seed.close();

    const out = new Capture();
    const err = new Capture();
    expect(await runBackendServer(['--db', db, '--create-key', 'ops', '--scope', 'read', '--vins', VIN], { stdout: out, stderr: err })).toBe(0);
    const token = out.text.trim();
    expect(token).toMatch(/^rlk_[A-Za-z0-9_-]{43}$/);
    expect(err.text).toContain("'ops' (scopes read; vehicles " + VIN);

    const controller = new AbortController();
    let service!: BackendService;
    const started = new Promise<void>((resolve) => {
      void runBackendServer(['--db', db, '--listen', '127.0.0.1:0'], {
        stdout: new Capture(), stderr: err, signal: controller.signal,
        onStarted: (s) => ((service = s), resolve()),
      });
    });
    await started;
    try {
      expect(err.text).toContain(`API at ${service.url}`);
      const vehicles = await fetchValidated(service.url, '/vehicles', token);
      expect(vehicles.status).toBe(200);
      expect(vehicles.body._embedded.vehicles[0].vin).toBe(VIN);
      expect((await fetchValidated(service.url, '/vehicles')).status).toBe(401);
      expect((await fetchValidated(service.url, '/openapi.json')).status).toBe(200);
      const remote = await fetch(`${service.url}/vehicles/${VIN}/remote`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"action":"door_lock"}' });
      expect(remote.status).toBe(403); // a read-only key
    } finally {
      controller.abort();
    }
  });

  it('exits 2 on bad options, naming them', async () => {
    for (const [argv, message] of [
      [['--create-key', 'x'], '--create-key needs --scope'],
      [['--create-key', 'x', '--scope', 'write'], "unknown scope 'write'"],
      [['--listen', '8080'], '--listen wants HOST:PORT'],
      [['--scope', 'read'], '--scope and --vins go with --create-key'],
      [['--key', join(dir, 'missing.pem'), '--db', join(dir, 'k.sqlite'), '--listen', '127.0.0.1:0'], 'cannot read key file'],
    ] as [string[], string][]) {
      const err = new Capture();
      expect(await runBackendServer(argv, { stdout: new Capture(), stderr: err }), argv.join(' ')).toBe(2);
      expect(err.text).toContain(message);
    }
  });

  it('keeps the receiver for `receive` and its own options (--out, --no-share, ...)', () => {
    expect(isReceiverCommand(['receive', '--broker', 'mqtt://x'])).toBe(true);
    expect(isReceiverCommand(['--broker', 'mqtt://x', '--out', 'f.jsonl', '--no-share'])).toBe(true);
    expect(isReceiverCommand(['--broker', 'mqtt://x', '--client-id', 'r1'])).toBe(true);
    expect(isReceiverCommand(['--broker', 'mqtt://x', '--db', 'x.sqlite', '--client-id', 'w1'])).toBe(false);
    expect(isReceiverCommand(['--broker', 'mqtt://x'])).toBe(false);
    expect(isReceiverCommand([])).toBe(false);
  });
});
