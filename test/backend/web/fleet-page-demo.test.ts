/**
 * The fleet page on `npm start`'s demo: the whole demo (embedded broker, the agent on the scripted
 * drive, the backend with the Web API, the simulated body ECU) is run and kept running; the page is
 * opened at the URL the demo prints and shows the demo vehicle, its trip and its collision, and a
 * door_lock clicked on the page ends SUCCEEDED there. A screenshot is kept in test-artifacts/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo, type DemoResult } from '../../../apps/demo/demo-runner.js';
import { keepScreenshot, launchChromium, openWatchedPage } from './browser.js';

let dir: string;
let browser: Browser;
let stopDemo: () => void = () => undefined;
let demo: Promise<DemoResult> | undefined;
const printed: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roadlink-web-demo-'));
  browser = await launchChromium();
  const until = new Promise<void>((resolve) => (stopDemo = resolve));
  demo = runDemo({ dir, speed: 0, keepRunning: true, until, print: (line) => printed.push(line), log: () => undefined });
  demo.catch(() => undefined); // awaited in the test and in afterAll
}, 60_000);

afterAll(async () => {
  stopDemo();
  await demo?.catch(() => undefined);
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('the fleet page on the demo', () => {
  it('shows the demo vehicle, its trip and its collision; door_lock from the page ends SUCCEEDED on the page', async () => {
    await expect.poll(() => printed.some((line) => line.includes('[demo] running on')), { timeout: 120_000, interval: 250 }).toBe(true);
    const fleetUrl = printed.map((line) => /^\s+fleet\s+(\S+)/.exec(line)?.[1]).find((url) => url !== undefined);
    const vin = printed.map((line) => /^\s+vehicle\s+(\S+)/.exec(line)?.[1]).find((v) => v !== undefined);
    expect(fleetUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/fleet\/#key=\S+$/);
    expect(vin).toBeDefined();

    const { page, problems } = await openWatchedPage(browser);
    await page.goto(fleetUrl!);
    await page.locator(`.leaflet-marker-icon[title="${vin}"]`).waitFor({ timeout: 20_000 });
    await page.locator('path.trip-line').waitFor({ timeout: 20_000 });
    const collision = page.locator('[data-testid=timeline] li.collision');
    await expect.poll(() => collision.count(), { timeout: 20_000 }).toBeGreaterThan(0);

    // The demo's own door_lock may be listed too: follow the clicked action's row by its id.
    const posted = page.waitForResponse((r) => r.request().method() === 'POST' && /\/remote$/.test(r.url()));
    await page.click('button[data-action=door_lock]');
    const { id } = (await (await posted).json()) as { id: string };
    const row = page.locator(`[data-testid=actions] li[data-id="${id}"]`);
    await expect.poll(() => row.locator('[data-testid=action-state]').textContent(), { timeout: 30_000 }).toBe('SUCCEEDED');
    expect((await row.getAttribute('data-states'))!.split(' ')[0]).toBe('PENDING');

    expect(problems).toEqual([]);
    await keepScreenshot(page, 'fleet-page-demo');
    await page.context().close();

    stopDemo();
    const result = await demo!;
    expect(result.command.states.at(-1)).toBe('SUCCEEDED'); // the demo's own door_lock, through POST /remote
  }, 180_000);
});
