/**
 * Receiver JSON: RFC 3339 times, GeoJSON points, event windows decoded with the signal table, and a
 * guard that every Position / SampleBatch / epoch field of the schema is covered by the converter.
 */
import { describe, expect, it } from 'vitest';
import { EPOCH_FIELDS, MessageDecoder, POSITION_FIELDS, shortestFloat32, WINDOW_FIELDS } from '../../backend/message-json.js';
import { Checkin, Event, PositionSource, Status } from '../../proto/gen/roadlink.js';
import { loadSchema } from '../../proto/generate.mjs';
import { SIGNALS, VIN_A } from '../uplink/fixtures.js';

const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

describe('receiver JSON', () => {
  const decoder = new MessageDecoder();
  decoder.decode(VIN_A, 'checkin', Checkin.encode({ vin: VIN_A, signals: SIGNALS, signalTable: 77 }).finish());

  it('renders a collision with GeoJSON position, RFC 3339 time and decoded windows', () => {
    const t0 = Date.UTC(2026, 2, 1, 12, 30, 0);
    const bytes = Event.encode({
      seq: 9,
      timeMs: t0,
      collision: {
        position: { lat: 48.8566, lon: 2.3522, altM: 35, headingDeg: 90.5, speedKmh: 42.3, timeMs: t0 - 100, source: PositionSource.POSITION_SOURCE_GNSS },
        speedKmh: 42.3,
        trigger: 'acceleration',
        peakAccelG: 6.2,
        preWindow: { baseTimeMs: t0 - 1000, columns: [{ signalId: 1, timeDod: [0, 500, 0], valueDelta: [4230, -30, -200] }], signalTable: 77 },
      },
    }).finish();
    const { json, seq } = decoder.decode(VIN_A, 'events', bytes);
    expect(seq).toEqual({ stream: 'events', first: 9, count: 1 });
    expect(json).toMatchObject({
      vin: VIN_A,
      type: 'event',
      seq: 9,
      time: '2026-03-01T12:30:00.000Z',
      kind: 'collision',
      collision: {
        position: { type: 'Point', coordinates: [2.3522, 48.8566, 35], headingDeg: 90.5, speedKmh: 42.3, time: '2026-03-01T12:29:59.900Z', source: 'POSITION_SOURCE_GNSS' },
        speedKmh: 42.3,
        peakAccelG: 6.2,
        trigger: 'acceleration',
        preWindow: {
          count: 3,
          samples: [
            { signal: 'Vehicle.Speed', unit: 'km/h', time: '2026-03-01T12:29:59.000Z', value: 42.3 },
            { signal: 'Vehicle.Speed', unit: 'km/h', time: '2026-03-01T12:29:59.500Z', value: 42 },
            { signal: 'Vehicle.Speed', unit: 'km/h', time: '2026-03-01T12:30:00.000Z', value: 40 },
          ],
        },
      },
    });
    expect(JSON.stringify(json)).not.toContain('timeMs');
  });

  it('renders a status with a two-coordinate point when the altitude is unknown', () => {
    const { json } = decoder.decode(VIN_A, 'status', Status.encode({ timeMs: 0, position: { lat: -33.9, lon: 151.2 }, fuelLevelPct: 55.5, locked: true }).finish());
    expect(json).toEqual({ vin: VIN_A, type: 'status', position: { type: 'Point', coordinates: [151.2, -33.9] }, fuelLevelPct: 55.5, locked: true });
  });

  it('keeps samples of unknown signals as id and raw value, counted', () => {
    const before = decoder.undecodedSamples;
    const bytes = Event.encode({ seq: 1, timeMs: 5, ruleTrigger: { rule: 'r', window: { baseTimeMs: 5, columns: [{ signalId: 42, timeDod: [0], valueDelta: [7] }] } } }).finish();
    const { json } = decoder.decode(VIN_A, 'events', bytes);
    expect((json.ruleTrigger as any).window.samples).toEqual([{ signalId: 42, time: '1970-01-01T00:00:00.005Z', raw: 7 }]);
    expect(decoder.undecodedSamples).toBe(before + 1);
  });

  it('prints float32 fields with the fewest digits that read back the same', () => {
    expect(shortestFloat32(Math.fround(42.3))).toBe(42.3);
    expect(shortestFloat32(Math.fround(0.1))).toBe(0.1);
    expect(shortestFloat32(48.8566)).toBe(48.8566); // a double: untouched
    expect(shortestFloat32(3)).toBe(3);
  });

  it('covers every Position, SampleBatch and epoch-millisecond field of roadlink.v1', () => {
    const root = loadSchema();
    const problems: string[] = [];
    const walk = (ns: any) => {
      for (const nested of ns.nestedArray ?? []) {
        for (const f of nested.fieldsArray ?? []) {
          const json = camel(f.name);
          const where = `${nested.name}.${f.name}`;
          if (f.type === 'Position' && !POSITION_FIELDS.has(json)) problems.push(`${where} (Position) not in POSITION_FIELDS`);
          if (f.type === 'SampleBatch' && !WINDOW_FIELDS.has(json)) problems.push(`${where} (SampleBatch) not in WINDOW_FIELDS`);
          if (f.type === 'int64' && f.name.endsWith('_ms') && f.name !== 'base_time_ms' && !(json in EPOCH_FIELDS)) problems.push(`${where} not in EPOCH_FIELDS`);
          if (f.type !== 'Position' && POSITION_FIELDS.has(json)) problems.push(`${where} is named like a position but is ${f.type}`);
          if (f.type !== 'SampleBatch' && WINDOW_FIELDS.has(json)) problems.push(`${where} is named like a window but is ${f.type}`);
        }
        walk(nested);
      }
    };
    walk(root.lookup('roadlink.v1'));
    expect(problems).toEqual([]);
  });
});
