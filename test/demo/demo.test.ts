// The demo (`npm start`) end to end, at full replay speed: embedded MQTT 5 broker, the agent on the
// generated drive, the backend receiver, a signed door_lock confirmed by the simulated body ECU.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo, DEMO_DRIVE_S, type DemoResult } from '../../apps/demo/demo-runner.js';
import { driveProfile } from '../../apps/demo/drive-profile.js';

describe('roadlink demo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'roadlink-demo-test-'));
  const printed: string[] = [];
  let result: DemoResult;

  beforeAll(async () => {
    result = await runDemo({ dir, speed: 0, print: (line) => printed.push(line), log: () => {} });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('executes the remote command sent through the Web API on the bus and gets it confirmed', () => {
    expect(result.command.final.state).toBe('SUCCEEDED');
    expect(result.command.states[0]).toBe('PENDING');
    expect(result.command.states.at(-1)).toBe('SUCCEEDED');
    expect(result.framesSent).toBe(1);
    expect(printed).toContain('[backend] command door_lock: SUCCEEDED');
  });

  it('serves the drive from its Web API: the trip, the status and the collision, and says where', () => {
    const { trip, status, collision, url } = result.api;
    expect(printed.some((l) => l.includes(`web API  ${url}`))).toBe(true);
    expect(trip.distanceKm).toBeCloseTo(result.report.trips[0].distanceKm, 1);
    expect(trip.departure.position.type).toBe('Point');
    expect(status.position.geometry.type).toBe('Point');
    expect(status.ignition).toBe('OFF');
    expect(collision.position.type).toBe('Point');
    expect(collision.detail.preWindow ?? collision.detail.postWindow).toBeDefined();
    expect(printed.some((l) => l.startsWith('    GET …/collisions'))).toBe(true);
  });

  it('delivers every stored record once: no sequence gaps, no duplicates', () => {
    const streams = Object.values(result.receiver.vehicles).flatMap((v) => Object.values(v));
    expect(streams.length).toBeGreaterThanOrEqual(2);
    for (const s of streams) {
      expect(s.holes).toEqual([]);
      expect(s.duplicates).toBe(0);
      expect(s.received).toBe(s.last - s.first + 1);
    }
  });

  it('reports the trip the script drove, with the odometer distance and the ignition times', () => {
    const states = Array.from(driveProfile(DEMO_DRIVE_S), (s) => ({ ...s })); // the generator reuses one object
    const on = states.find((s) => s.ignition >= 2)!;
    const off = states.find((s) => s.timeMs > on.timeMs && s.ignition < 2)!;
    const [trip] = result.report.trips;
    expect(result.report.trips).toHaveLength(1);
    expect(trip.distanceKm).toBeCloseTo(off.odometerKm - on.odometerKm, 0);
    expect(trip.durationS).toBe(Math.round((off.timeMs - on.timeMs) / 1000));
    expect(trip.maxSpeedKmh).toBeCloseTo(Math.max(...states.map((s) => s.speedKmh)), 0);
  });

  it('notifies the collision at once and again with its post-crash window, and the other events of the script', () => {
    const kinds = result.report.eventsByKind;
    expect(kinds.get('collision')).toBe(2);
    expect(result.report.collisions[0].position.type).toBe('Point');
    expect(kinds.get('ignition')).toBe(2);
    expect(kinds.get('geofence')).toBe(2); // left home on the highway, came back
    expect(kinds.get('alert')).toBe(2); // tyre pressure raised and cleared
    expect(kinds.get('hard_braking')).toBeGreaterThanOrEqual(2); // the emergency braking and the collision
    expect(kinds.get('door_open_while_driving')).toBe(1);
  });

  it('writes every received message as a JSON line with RFC 3339 times', () => {
    const lines = readFileSync(join(dir, 'backend.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const data = lines.filter((l) => l.type === 'data');
    expect(data.length).toBeGreaterThan(0);
    expect(data[0].samples[0].time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(lines.some((l) => l.type === 'checkin' && l.vin === 'VF1RDLNK000000001')).toBe(true);
  });
});
