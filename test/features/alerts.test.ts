import { describe, expect, it } from 'vitest';
import { syntheticDrive, SIGNALS } from '../helpers/synthetic-drive.js';
import { driveFeatures, runDrive } from './drive-harness.js';
import { Priority } from '../../wire/priority.js';

describe('alerts', () => {
  const drive = syntheticDrive();
  const truth = drive.truth;

  it('raises once and clears once; a 0.3 s flicker of the lamp is ignored', () => {
    const alerts = runDrive(drive).of('alert');
    expect(alerts.map((a) => a.alert.active)).toEqual([true, false]);
    const [raised, cleared] = alerts;
    expect(raised.alert).toMatchObject({ code: 'tyre_pressure', severity: 'warning', signal: SIGNALS.tyreLow, value: 1, message: 'Low tyre pressure' });
    expect(raised.priority).toBe(Priority.normal);
    // Dated when the condition began; sent once it had held for the 2 s debounce.
    expect(raised.timeUs).toBe(truth.tyreWarning.fromUs);
    expect(raised.emittedUs).toBeGreaterThanOrEqual(truth.tyreWarning.fromUs + 2e6);
    expect(raised.emittedUs).toBeLessThan(truth.tyreWarning.fromUs + 5e6);
    expect(cleared.timeUs).toBe(truth.tyreWarning.toUs);
    expect(cleared.emittedUs).toBeGreaterThanOrEqual(truth.tyreWarning.toUs + 5e6);
  });

  it('without a debounce the flicker raises and clears an alert too (what the debounce is for)', () => {
    const config = driveFeatures();
    const features = driveFeatures({ alerts: config.alerts.map((a) => ({ ...a, debounceS: 0, clearDebounceS: 0 })) });
    const alerts = runDrive(drive, { features }).of('alert');
    expect(alerts.map((a) => a.alert.active)).toEqual([true, false, true, false]);
    expect(alerts[0].timeUs).toBe(truth.tyreGlitchUs);
  });

  it('a critical alert goes out immediately with high priority; several alerts may watch one signal', () => {
    const base = driveFeatures().alerts[0];
    const features = driveFeatures({
      alerts: [
        { ...base, code: 'coolant_warm', signal: SIGNALS.coolant, equals: undefined, above: 100, severity: 'warning', debounceS: 0 },
        { ...base, code: 'coolant_hot', signal: SIGNALS.coolant, equals: undefined, above: 106, severity: 'critical', debounceS: 0, clearDebounceS: 10 },
      ],
    });
    const alerts = runDrive(drive, { features }).of('alert');
    const hot = alerts.filter((a) => a.alert.code === 'coolant_hot');
    const warm = alerts.filter((a) => a.alert.code === 'coolant_warm');
    expect(warm.map((a) => a.alert.active)).toEqual([true, false]);
    // The coolant oscillates 103.5..106.5 °C: above 106 at each peak, below in between for less than the 10 s clear debounce.
    expect(hot.map((a) => a.alert.active)).toEqual([true, false]);
    expect(hot[0]).toMatchObject({ immediate: true, priority: Priority.high });
    expect(hot[0].alert.value).toBeGreaterThan(106);
    expect(hot[1].immediate).toBe(false);
  });
});
