import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../agent/config/config-error.js';
import { vehicleSignalNames } from '../../agent/config/config.js';
import { loadAgentConfig } from '../../agent/runtime/agent-config.js';
import { loadDbcFile } from '../../agent/decode/dbc-loader.js';
import { Decoder } from '../../agent/decode/decoder.js';
import { DEMO_HOME } from '../../apps/demo/drive-profile.js';
import { buildSignalMap, decoderSignalRefs } from '../../agent/rules/signal-map.js';
import { demoFolder } from '../helpers/demo-config.js';

describe('the demo configuration (examples/demo/demo.yaml)', () => {
  it('loads cleanly next to its DBC and a generated drive log', () => {
    const demo = demoFolder();
    const config = loadAgentConfig(demo.config);
    expect(config.buses).toEqual([{ name: 'can0', driver: 'replay', log: demo.log, speed: 30, loop: false, dbc: [`${demo.dir}/demo-vehicle.dbc`] }]);
    expect(config.storage.path).toBe(`${demo.dir}/roadlink-demo.db`);
    expect(config.uplink?.broker).toBe('mqtt://127.0.0.1:1883');
    expect(config.states.ignition).toBe('Roadlink.IgnitionState >= 2');
    // The home geofence is centred where the drive starts.
    expect(config.monitors.geofences).toEqual([
      { name: 'home', shape: 'circle', center: DEMO_HOME, radiusM: 2000, marginM: 25, dwellS: 5, priority: expect.any(Number) },
    ]);
    expect(config.features.trip).toMatchObject({ tankCapacityL: 45 });
    expect(config.features.alerts.map((a) => a.code)).toEqual(['tyre_pressure', 'oil_pressure', 'brake_system', 'check_engine']);
    // The features follow the configuration's own ignition state.
    expect(config.features.ignition.states).toEqual(config.states);
    expect(config.features.ignition.signalNames).toEqual(vehicleSignalNames(config));
  });

  it('every catalog source is a signal of the demo DBC', () => {
    const config = loadAgentConfig(demoFolder().config);
    const decoder = new Decoder(config.buses.map((bus) => ({ bus: bus.name, databases: bus.dbc.map((file) => loadDbcFile(file).db) })));
    const names = vehicleSignalNames(config);
    const map = buildSignalMap(config.signals, (name) => names.indexOf(name), decoderSignalRefs(decoder.signals));
    expect(map.unmatched.map((s) => s.name)).toEqual([]);
  });

  it('without the drive log (the demo writes it first), the replay bus is refused by name', () => {
    const demo = demoFolder();
    rmSync(demo.log);
    let error: unknown;
    try {
      loadAgentConfig(demo.config);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => `${i.path}: ${i.message}`)).toEqual([`buses[0].log: file not found: ${demo.log}`]);
  });
});
