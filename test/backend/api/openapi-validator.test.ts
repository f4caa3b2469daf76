// The validator the API tests rely on must reject what the document does not allow.
import { describe, expect, it } from 'vitest';
import { validateResponse } from './openapi-validator.js';

const status = (body: unknown, extra: Partial<Parameters<typeof validateResponse>[0]> = {}) =>
  validateResponse({ method: 'GET', url: '/vehicles/WVWZZZ1JZXW000001/status', status: 200, contentType: 'application/hal+json', body: JSON.stringify(body), ...extra });

const good = {
  vin: 'WVWZZZ1JZXW000001', time: '2026-01-15T08:00:00.000Z', position: null, speedKmh: 0, fuel: { levelPct: 1, batterySocPct: 0 }, autonomy: { rangeKm: 1 },
  odometerKm: 1, ignition: 'ON', doors: [], openDoors: [], locked: true, _links: { self: { href: '/x' }, vehicle: { href: '/v' } },
};

describe('OpenAPI response validator', () => {
  it('accepts a conforming body', () => {
    expect(status(good)).toEqual(good);
  });
  it('rejects a wrong time format, a missing field, an extra field, a non-GeoJSON position', () => {
    expect(() => status({ ...good, time: '15/01/2026' })).toThrow(/date-time/);
    expect(() => status({ ...good, autonomy: undefined })).toThrow(/autonomy/);
    expect(() => status({ ...good, surprise: 1 })).toThrow(/additional/);
    expect(() => status({ ...good, position: { lat: 1, lon: 2 } })).toThrow(/does not match/);
  });
  it('rejects undocumented paths, statuses and media types', () => {
    expect(() => status(good, { url: '/nowhere' })).toThrow(/not in the OpenAPI document/);
    expect(() => status(good, { status: 418 })).toThrow(/418 is not documented/);
    expect(() => status(good, { contentType: 'text/plain' })).toThrow(/media type/);
  });
});
