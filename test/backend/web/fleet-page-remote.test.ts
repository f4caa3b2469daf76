/**
 * The fleet page driving a vehicle through the real backend: BackendService (what `roadlink backend`
 * runs: ingest, Web API, remote actions, monitor rules) with the page attached, a real mosquitto, and
 * a simulated vehicle on it (the agent's uplink, command processor over the simulated body ECU, rules
 * updater). door_lock clicked on the page ends SUCCEEDED on the page; a circle drawn on the map
 * becomes a monitor the vehicle accepts; an action clicked while the list of recent ones is on its way
 * stays on top of it. A screenshot is kept in test-artifacts/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../../backend/api/auth.js';
import { BackendService } from '../../../backend/api/backend-service.js';
import { newKey } from '../../commands/fixtures.js';
import { eventually } from '../api/api-fixtures.js';
import { Mosquitto } from '../../helpers/mosquitto.js';
import { keepScreenshot, launchChromium, openWatchedPage } from './browser.js';
import { storeDrive } from './fleet-fixture.js';
import { SIMULATED_VIN, SimulatedVehicle } from './simulated-vehicle.js';

const signingKey = newKey('fleet-page-backend');
let dir: string;
let broker: Mosquitto;
let vehicle: SimulatedVehicle;
let backend: BackendService;
let browser: Browser;
let adminKey: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roadlink-web-remote-'));
  broker = await Mosquitto.start();
  vehicle = await SimulatedVehicle.connect(broker.url, signingKey);
  backend = await BackendService.start({ db: join(dir, 'backend.db'), broker: { url: broker.url }, key: signingKey, host: '127.0.0.1', port: 0, ingestClientId: 'fleet-page-test', pollIntervalMs: 200 });
  await eventually(() => backend.store.vehicle(SIMULATED_VIN), "the vehicle's own checkin ingested"); // then the drive's checkin is the latest
  await storeDrive(backend.store, SIMULATED_VIN, vehicle.capabilities);
  adminKey = (await createApiKey(backend.store, { name: 'operator', scopes: ['read', 'remote'] })).token;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await backend?.stop();
  await vehicle?.disconnect();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the fleet page on roadlink backend, with a vehicle answering', () => {
  it('locks the doors from the page: the action goes PENDING → ... → SUCCEEDED on the page, the ECU got the request; a drawn circle becomes an active monitor', async () => {
    const { page, problems } = await openWatchedPage(browser);
    await page.goto(`${backend.url}/fleet/#key=${adminKey}`);
    await page.locator(`.leaflet-marker-icon[title="${SIMULATED_VIN}"]`).waitFor({ timeout: 15_000 });
    await page.locator('path.trip-line').waitFor();

    await page.click('button[data-action=door_lock]');
    const row = page.locator('[data-testid=actions] li').first();
    await expect.poll(() => row.locator('[data-testid=action-state]').textContent(), { timeout: 20_000 }).toBe('SUCCEEDED');
    const states = (await row.getAttribute('data-states'))!.split(' ');
    expect(states[0]).toBe('PENDING');
    expect(states.at(-1)).toBe('SUCCEEDED');
    expect(await row.textContent()).toContain('door_lock');
    expect(vehicle.harness.vehicle.ecu.sentRequests().at(-1)).toMatchObject({ message: 'TCU_BODY_REQUEST', values: { LockRequest: 2 } });

    // A monitor: click the centre on the map, click again 120 px east for the radius, give a callback URL.
    await page.click('[data-testid=draw-monitor]');
    const map = (await page.locator('#map').boundingBox())!;
    const centre = { x: map.x + map.width / 2, y: map.y + map.height / 2 };
    await page.mouse.click(centre.x, centre.y);
    await page.mouse.move(centre.x + 60, centre.y);
    await page.mouse.click(centre.x + 120, centre.y);
    await page.fill('.monitor-form input[name=callbackUrl]', 'http://127.0.0.1:9/roadlink-hook');
    await page.click('.monitor-form button[type=submit]');
    const monitorRow = page.locator('[data-testid=monitors] li[data-monitor]');
    await expect.poll(() => monitorRow.locator('.state').textContent(), { timeout: 20_000 }).toBe('active');
    expect(await page.locator('path.monitor-area.state-active').count()).toBe(1);

    // What the page created, read back from the API: a circle around the clicked point.
    const monitors = (await (await fetch(`${backend.url}/monitors?vin=${SIMULATED_VIN}`, { headers: { authorization: `Bearer ${adminKey}` } })).json()) as {
      _embedded: { monitors: { geometry: { coordinates: number[] }; radiusM: number; state: string }[] };
    };
    const [monitor] = monitors._embedded.monitors;
    expect(monitor.state).toBe('active');
    // The scale bar says how many metres its width is: 120 px in metres.
    const scale = page.locator('.leaflet-control-scale-line');
    const [value, unit] = (await scale.textContent())!.trim().split(' ');
    const expectedRadius = (Number(value) * (unit === 'km' ? 1000 : 1) * 120) / (await scale.boundingBox())!.width;
    expect(monitor.radiusM).toBeGreaterThan(expectedRadius * 0.8);
    expect(monitor.radiusM).toBeLessThan(expectedRadius * 1.2);

    expect(problems).toEqual([]);
    await keepScreenshot(page, 'fleet-page');
    await page.context().close();
  }, 90_000);

  it('keeps an action clicked before the list of recent actions arrived on top of that list', async () => {
    const older = await fetch(`${backend.url}/vehicles/${SIMULATED_VIN}/remote`, {
      method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ action: 'door_lock' }),
    });
    expect(older.status).toBe(202);
    const olderId = ((await older.json()) as { id: string }).id;

    const { page, problems } = await openWatchedPage(browser);
    let releaseRecent!: () => void;
    const recentHeld = new Promise<void>((resolve) => (releaseRecent = resolve));
    await page.route(/\/remote\?limit=5$/, async (route) => {
      await recentHeld;
      await route.continue();
    });
    await page.goto(`${backend.url}/fleet/#key=${adminKey}`);
    await page.click('button[data-action=door_lock]', { timeout: 15_000 });
    const rows = page.locator('[data-testid=actions] li');
    await expect.poll(() => rows.first().getAttribute('data-states'), { timeout: 10_000 }).toMatch(/^PENDING/);

    releaseRecent();
    await expect.poll(() => page.locator(`[data-testid=actions] li[data-id="${olderId}"]`).count(), { timeout: 10_000 }).toBe(1);
    expect(await rows.first().getAttribute('data-states')).toMatch(/^PENDING/);
    expect(await rows.first().getAttribute('data-id')).not.toBe(olderId);
    expect(await rows.nth(1).getAttribute('data-id')).toBe(olderId);

    expect(problems).toEqual([]);
    await page.context().close();
  }, 60_000);
});
