/**
 * The fleet web page in a real browser (headless Debian chromium) against the real Web API on a
 * real SQLite store filled through applyUploads: the static serving in front of the API, the key
 * handling, the vehicle's marker and status, its trip drawn from the track, its collision in the
 * timeline and on the map.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../../backend/api/auth.js';
import { createApiServer } from '../../../backend/api/server.js';
import type { BackendStore } from '../../../backend/db/backend-store.js';
import { openSqliteStore } from '../../../backend/db/open-store.js';
import { fleetPageRoutes } from '../../../backend/web/fleet-page-server.js';
import { keepScreenshot, launchChromium, openWatchedPage } from './browser.js';
import { DRIVE_POINTS, DRIVE_VIN, storeDrive } from './fleet-fixture.js';

let dir: string;
let store: BackendStore;
let server: { url: string; close(): Promise<void> };
let browser: Browser;
let readKey: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roadlink-web-test-'));
  store = await openSqliteStore(join(dir, 'backend.db'));
  await storeDrive(store, DRIVE_VIN, ['cmd:door_lock', 'cmd:door_unlock']);
  readKey = (await createApiKey(store, { name: 'viewer', scopes: ['read'] })).token;
  const app = createApiServer({ store });
  fleetPageRoutes(app);
  server = { url: await app.listen({ host: '127.0.0.1', port: 0 }), close: () => app.close() };
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** GET with the path sent as written (fetch would resolve `..` first). */
function rawStatus(path: string): Promise<number> {
  return new Promise((resolve, reject) => get(`${server.url}/`, { path }, (response) => resolve((response.resume(), response.statusCode!))).on('error', reject));
}

describe('serving the page beside the API', () => {
  it('redirects / to /fleet/, serves the page, Leaflet and the basemap without a key, and nothing outside its table', async () => {
    const root = await fetch(`${server.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/fleet/');

    const page = await fetch(`${server.url}/fleet/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<script type="module" src="./main.js">');

    const leaflet = await fetch(`${server.url}/fleet/vendor/leaflet/leaflet-src.esm.js`);
    expect(leaflet.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await leaflet.text()).toMatch(/export \{[^}]*\bmap\b/);
    const basemap = (await (await fetch(`${server.url}/fleet/basemap/countries-50m.json`)).json()) as { type: string; objects: Record<string, unknown> };
    expect(basemap.type).toBe('Topology');
    expect(Object.keys(basemap.objects)).toEqual(expect.arrayContaining(['countries', 'land']));

    for (const path of ['/fleet/../package.json', '/fleet/%2e%2e/package.json', '/fleet/fleet-page-server.ts', '/fleet/vendor/leaflet/leaflet.js.map']) {
      expect(await rawStatus(path), path).toBe(404);
    }
    expect((await fetch(`${server.url}/fleet/main.js`, { method: 'POST' })).status).toBe(405);
  });

  it('leaves the API as it was: bearer key required, problem documents, the OpenAPI document public', async () => {
    const anonymous = await fetch(`${server.url}/vehicles`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await fetch(`${server.url}/openapi.json`)).status).toBe(200);
    const vehicles = (await (await fetch(`${server.url}/vehicles`, { headers: { authorization: `Bearer ${readKey}` } })).json()) as { _embedded: { vehicles: { vin: string }[] } };
    expect(vehicles._embedded.vehicles.map((v) => v.vin)).toEqual([DRIVE_VIN]);
  });
});

describe('the page in chromium', () => {
  it('asks for a key, and asks again when the API refuses it', async () => {
    const { page } = await openWatchedPage(browser);
    await page.goto(`${server.url}/fleet/`);
    await expect.poll(() => page.locator('#key-dialog').isVisible()).toBe(true);
    await page.fill('#key-input', 'rlk_not-a-real-key');
    await page.click('#key-form button[type=submit]');
    await expect.poll(() => page.locator('#key-reason').textContent(), { timeout: 10_000 }).toContain('unknown or revoked API key');
    expect(await page.evaluate(() => sessionStorage.getItem('roadlink.apiKey'))).toBeNull();

    await page.fill('#key-input', readKey);
    await page.click('#key-form button[type=submit]');
    await page.locator(`.leaflet-marker-icon[title="${DRIVE_VIN}"]`).waitFor({ timeout: 10_000 });
    expect(await page.locator('#key-dialog').isVisible()).toBe(false);
    await page.context().close();
  });

  it('shows the vehicle at its last position with its status, its trip as a line, its collision in the timeline', async () => {
    const { page, problems } = await openWatchedPage(browser);
    await page.goto(`${server.url}/fleet/#key=${readKey}`);
    // The key moves from the fragment to sessionStorage and out of the address bar.
    await page.locator(`.leaflet-marker-icon[title="${DRIVE_VIN}"]`).waitFor({ timeout: 10_000 });
    expect(page.url()).toBe(`${server.url}/fleet/`);
    expect(await page.evaluate(() => sessionStorage.getItem('roadlink.apiKey'))).toBe(readKey);

    const marker = page.locator(`.leaflet-marker-icon[title="${DRIVE_VIN}"]`);
    expect(await marker.getAttribute('class')).toMatch(/ignition-off.*doors-open/);
    const status = page.locator('[data-testid=status]');
    await expect.poll(() => status.textContent()).toContain('open: Row1.DriverSide');
    expect(await status.textContent()).toMatch(/IgnitionOFF.*Fuel63 %.*Odometer23456\.7 km/);

    // The trip's track: one SVG path with a vertex per stored position, across several hundred pixels.
    const trip = page.locator('path.trip-line');
    await trip.waitFor({ timeout: 10_000 });
    const vertices = (await trip.getAttribute('d'))!.match(/[ML]/g)!.length;
    expect(vertices).toBeGreaterThan(DRIVE_POINTS / 8); // Leaflet simplifies the line at screen resolution
    const box = (await trip.boundingBox())!;
    expect(box.width).toBeGreaterThan(300);

    const timeline = page.locator('[data-testid=timeline] li');
    await expect.poll(() => timeline.count()).toBe(2);
    expect(await timeline.nth(0).getAttribute('class')).toContain('collision');
    expect(await timeline.nth(0).textContent()).toContain('peak 4.2 g');
    expect(await timeline.nth(1).textContent()).toContain('tyre_pressure raised (warning): front left 1.6 bar');
    expect(await page.locator('path.collision-marker').count()).toBe(1);

    // A read-only key still gets the buttons; the API refuses the action, and the page says so.
    await page.click('button[data-action=door_lock]');
    await expect.poll(() => page.locator('[data-testid=actions] li').first().textContent()).toContain("lacks the 'remote' scope");
    expect(problems.filter((p) => !p.includes('/remote'))).toEqual([]);
    await keepScreenshot(page, 'fleet-page-read-only');
    await page.context().close();
  });
});
