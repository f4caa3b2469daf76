import { describe, expect, it } from 'vitest';
import { distanceM } from '../../agent/rules/features/geo.js';
import { DEFAULT_COLLISION } from '../../agent/config/sections/feature-settings.js';
import { SIGNALS, syntheticDrive } from '../helpers/synthetic-drive.js';
import { driveFeatures, emittedAtOnce, runDrive } from './drive-harness.js';
import { Priority } from '../../wire/priority.js';

describe('collision', () => {
  const drive = syntheticDrive();
  const truth = drive.truth;
  const collisions = runDrive(drive).of('collision');

  it('is one collision (the 0.8 g hard braking is not one): a record at once, then one with the post window', () => {
    expect(collisions).toHaveLength(2);
    const [first, second] = collisions;
    expect(first.priority).toBe(Priority.critical);
    expect(first.immediate).toBe(true);
    // Triggered by the first acceleration sample (50 Hz) of the impact.
    expect(first.timeUs - truth.collision.timeUs).toBeGreaterThanOrEqual(0);
    expect(first.timeUs - truth.collision.timeUs).toBeLessThanOrEqual(20_000);
    expect(first.collision.trigger).toBe('acceleration');
    // Emitted while the batch holding the trigger was processed: nothing waited for the post window.
    expect(emittedAtOnce(first)).toBe(true);
    expect(first.collision.postWindow).toBeNull();
    expect(second.timeUs).toBe(first.timeUs);
    expect(second.emittedUs - first.timeUs).toBeGreaterThanOrEqual(DEFAULT_COLLISION.postWindowS * 1e6);
    expect(second.collision.preWindow).toBeNull();
  });

  it('carries the position, the impact speed and the peak g', () => {
    const c = collisions[0].collision;
    // 1 Hz GNSS: the last fix is at most 1 s (9.7 m at 35 km/h) old, plus up to 7.5 m of noise per axis.
    expect(distanceM(c.position!.lat!, c.position!.lon!, truth.collision.lat, truth.collision.lon)).toBeLessThan(21);
    expect(c.speedKmh).toBeCloseTo(truth.collision.speedKmh, 0);
    // 65 m/s² = 6.63 g, with a little sensor noise.
    expect(c.peakAccelG).toBeGreaterThan(6.4);
    expect(c.peakAccelG).toBeLessThan(6.9);
  });

  it('sends the pre-crash window from the signal history and the post window later', () => {
    const t = collisions[0].timeUs;
    const pre = collisions[0].collision.preWindow!;
    expect(pre.names).toEqual(DEFAULT_COLLISION.windowSignals);
    const speed = pre.names.indexOf(SIGNALS.speed);
    const times = pre.timeUs[speed];
    // 10 s of a 10 Hz signal, all before the trigger.
    expect(times.length).toBeGreaterThanOrEqual(99);
    expect(times[0]).toBeGreaterThanOrEqual(t - 10e6);
    expect(times.at(-1)!).toBeLessThanOrEqual(t);
    expect(pre.value[speed].at(-1)).toBeCloseTo(truth.collision.speedKmh, 0);
    const lat = pre.names.indexOf(SIGNALS.lat);
    expect(pre.timeUs[lat].length).toBeGreaterThanOrEqual(9);

    const post = collisions[1].collision.postWindow!;
    const postSpeed = post.value[post.names.indexOf(SIGNALS.speed)];
    expect(postSpeed.length).toBeGreaterThanOrEqual(49);
    expect(postSpeed.at(-1)).toBe(0);
    const accel = post.value[post.names.indexOf(SIGNALS.accelLong)];
    expect(Math.min(...accel)).toBeLessThan(-60);
  });

  it('triggers from the airbag signal alone when acceleration is not configured', () => {
    const features = driveFeatures({ collision: { ...DEFAULT_COLLISION, acceleration: undefined } });
    const [first] = runDrive(drive, { features }).of('collision');
    expect(first.collision.trigger).toBe('airbag');
    // The airbag deploys 30 ms into the impact; its signal is sampled at 10 Hz.
    expect(first.timeUs - truth.collision.timeUs).toBeGreaterThanOrEqual(30_000);
    expect(first.timeUs - truth.collision.timeUs).toBeLessThanOrEqual(130_000);
    // Without acceleration signals there is no g to report.
    expect(first.collision.peakAccelG).toBe(0);
  });

  it('a lower threshold turns the hard braking into a collision too (the threshold is what separates them)', () => {
    const features = driveFeatures({ collision: { ...DEFAULT_COLLISION, acceleration: { ...DEFAULT_COLLISION.acceleration!, thresholdG: 0.7 } } });
    const firsts = runDrive(drive, { features }).of('collision').filter((c) => c.collision.postWindow === null);
    expect(firsts).toHaveLength(2);
    expect(Math.abs(firsts[0].timeUs - truth.hardBrakeStartUs)).toBeLessThan(1e6);
  });
});
