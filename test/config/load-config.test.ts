import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../agent/config/config-error.js';
import { vehicleSignalNames } from '../../agent/config/config.js';
import { loadAgentConfig } from '../../agent/runtime/agent-config.js';
import { Priority } from '../../wire/priority.js';

const EXAMPLE = resolve(import.meta.dirname, '../../examples/peugeot-208.yaml');
const DBC = resolve(import.meta.dirname, '../../examples/dbc/psa_aee2010_r3.dbc');

/** Writes a config file into a fresh folder and returns its path. */
function configFile(text: string, name = 'roadlink.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'roadlink-config-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A valid minimal config; `extra` is appended (YAML keys at the top level). */
function minimal(extra = ''): string {
  return `vehicle:
  vin: VF3ABCDEFGH123456
  brand: Peugeot
  model: "208"
  fuel_type: petrol
  model_year: 2021
buses:
  - name: body
    driver: socketcan
    interface: can0
    dbc: [${JSON.stringify(DBC)}]
signals:
  Vehicle.Speed: { source: HS2_DYN_ABR_38D.VITESSE_VEHICULE_ROUES, unit: km/h }
  Vehicle.Cabin.Door.Row1.DriverSide.IsOpen: Dat_BSI.DRIVER_DOOR
  Ignition: RESTRAINTS.IGNITION
${extra}`;
}

function problems(path: string): ConfigError {
  try {
    loadAgentConfig(path);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('the config loaded without error');
}

describe('loadAgentConfig', () => {
  it('loads the PSA example with its catalog, rules, monitors and sections', () => {
    const config = loadAgentConfig(EXAMPLE);
    expect(config.vehicle).toEqual({ vin: 'VR3UHZKXZMT000001', brand: 'Peugeot', model: '208', fuelType: 'petrol', modelYear: 2021 });
    expect(config.buses[0]).toMatchObject({ name: 'body', driver: 'socketcan', interface: 'can0', dbc: [DBC] });
    const speed = config.signals.find((s) => s.name === 'Vehicle.Speed');
    expect(speed).toMatchObject({ source: { message: 'HS2_DYN_ABR_38D', signal: 'VITESSE_VEHICULE_ROUES' }, unit: 'km/h', scale: 1 });
    const mil = config.signals.find((s) => s.name === 'Vehicle.OBD.Status.IsMILOn');
    expect(mil?.map?.get(-1)).toBe(1);
    expect(mil?.map?.get(0)).toBe(0);
    expect(mil?.map?.size).toBe(2);
    const belt = config.signals.find((s) => s.name === 'Vehicle.Cabin.Seat.Row1.DriverSide.IsBelted');
    expect(belt?.mapDefault).toBe(0);
    const braking = config.rules.find((r) => r.name === 'harsh_braking');
    expect(braking).toMatchObject({ type: 'event', minIntervalMs: 10_000, preMs: 10_000, postMs: 5_000, priority: Priority.high, immediate: true });
    const dynamics = config.rules.find((r) => r.name === 'dynamics');
    expect(dynamics).toMatchObject({ type: 'regular', periodMs: 1000, when: 'driving', stream: 'telemetry' });
    expect(config.monitors.geofences.map((g) => g.shape)).toEqual(['circle', 'polygon']);
    expect(config.monitors.geofences[0]).toMatchObject({ marginM: 30, dwellS: 10 });
    const zone = config.monitors.geofences[1];
    expect(zone.shape === 'polygon' && zone.points[0]).toEqual({ lat: 48.902, lon: 2.279 });
    // Without its own margin and dwell, a geofence takes the features' defaults when it runs.
    expect(zone).not.toHaveProperty('marginM');
    expect(config.monitors.thresholds[0]).toMatchObject({ signal: 'Vehicle.LowVoltageBattery.CurrentVoltage', below: 11.8, hysteresis: 0.3 });
    expect(config.monitors.thresholds[1]).toMatchObject({ name: 'engine_hot', dwellS: 30 });
    expect(config.features.ignition.states.ignition).toBe('Roadlink.Ignition == 1');
    expect(config.features.trip).toMatchObject({ minDurationS: 60, tankCapacityL: 44 });
    expect(config.features.collision).toMatchObject({ airbag: { signal: 'Roadlink.CrashDetected', atLeast: 1 }, acceleration: undefined, preWindowS: 20 });
    expect(config.features.alerts.map((a) => a.code)).toEqual(['check_engine', 'coolant_temperature', 'particle_filter', 'low_fuel']);
    expect(config.features.maintenance).toMatchObject({ nextServiceMs: Date.UTC(2026, 8, 1), nextServiceOdometerKm: 60_000 });
    expect(config.features.monitors).toEqual({ geofenceMarginM: 15, geofenceDwellS: 3, thresholdDwellS: 0 });
    expect(config.storage).toMatchObject({ quotaBytes: 200e6, commitIntervalMs: 1000, commitRows: 5000, synchronous: 'normal' });
    expect(config.uplink).toMatchObject({ broker: 'mqtts://telematics.example.com:8883', keepaliveMs: 30_000, maxPayloadBytes: 131_072, inFlight: 16 });
    expect(config.gnss).toEqual({ device: '/dev/ttyACM0', baud: 9600 });
    // The GNSS source adds the position signals after the catalog's.
    expect(vehicleSignalNames(config)).toContain('Vehicle.CurrentLocation.Latitude');
  });

  it('every catalog source of the example exists in its DBC', async () => {
    const { readFileSync } = await import('node:fs');
    const dbc = readFileSync(DBC, 'latin1');
    const signalsOf = new Map<string, Set<string>>();
    let message = '';
    for (const line of dbc.split('\n')) {
      const bo = /^BO_ \d+ (\w+):/.exec(line);
      if (bo) signalsOf.set((message = bo[1]), new Set());
      const sg = /^ SG_ (\w+) /.exec(line);
      if (sg && message) signalsOf.get(message)?.add(sg[1]);
    }
    const config = loadAgentConfig(EXAMPLE);
    for (const entry of config.signals) {
      expect(signalsOf.get(entry.source.message)?.has(entry.source.signal), `${entry.name} ← ${entry.source.message}.${entry.source.signal}`).toBe(true);
    }
  });

  it('reads JSON as well, with line numbers', () => {
    const json = JSON.stringify(
      {
        vehicle: { vin: 'VF3ABCDEFGH123456', brand: 'Peugeot', model: '208', fuel_type: 'petrol', model_year: 2021 },
        buses: [{ name: 'body', driver: 'socketcan', interface: 'can0', dbc: [DBC] }],
        signals: { 'Vehicle.Speed': 'HS2_DYN_ABR_38D.VITESSE_VEHICULE_ROUES' },
        rules: [{ name: 'r', type: 'regular', period: 'fast', signals: ['Vehicle.Speed'] }],
      },
      null,
      2,
    );
    const error = problems(configFile(json, 'roadlink.json'));
    const line = json.split('\n').findIndex((l) => l.includes('"period": "fast"')) + 1;
    expect(error.issues).toEqual([{ path: 'rules[0].period', message: 'must be a duration like "10s" or "500ms", got "fast"', line }]);
  });

  it('reports several problems at once, each with its key path, reason and line', () => {
    const path = configFile(`vehicle:
  vin: VF3ABCDEFGH12345O
  brand: Peugeot
  model: "208"
  fuel_type: steam
  model_year: 2021
buses:
  - name: body
    driver: socketcan
    interface: can0
    dbc: [missing.dbc]
signals:
  Vehicle.Speed: HS2_DYN_ABR_38D.VITESSE_VEHICULE_ROUES
rules:
  - name: fast
    type: regular
    period: 10 sec
    signals: [Vehicle.Speed]
storage:
  quota: lots
uplink:
  broker: http://example.com
  keepalve: 30s
`);
    const error = problems(path);
    const dir = path.slice(0, path.lastIndexOf('/'));
    expect(error.issues).toEqual([
      { path: 'vehicle.vin', message: 'must be 17 characters of A-Z and 0-9 without I, O or Q, got "VF3ABCDEFGH12345O"', line: 2 },
      { path: 'vehicle.fuel_type', message: 'must be one of petrol | diesel | electric | hybrid | plugin_hybrid | lpg | cng | hydrogen | other, got "steam"', line: 5 },
      { path: 'buses[0].dbc[0]', message: `file not found: ${dir}/missing.dbc`, line: 11 },
      { path: 'rules[0].period', message: 'must be a duration like "10s" or "500ms", got "10 sec"', line: 17 },
      { path: 'storage.quota', message: 'must be a size like "200MB", "64KiB" or a number of bytes, got "lots"', line: 20 },
      { path: 'uplink.broker', message: 'must be an mqtt://, mqtts://, ws://, wss:// URL with a host, got "http://example.com"', line: 22 },
      { path: 'uplink.keepalve', message: "unknown key (did you mean 'keepalive'?)", line: 23 },
    ]);
    expect(error.message).toContain(`${path}:17: rules[0].period: must be a duration like "10s"`);
    expect(error.message).toMatch(/^invalid configuration .* \(7 problems\):/);
  });

  it('reports a bad expression with its position', () => {
    const unclosed = 'Vehicle.Speed > (120';
    const extra = 'rising(Vehicle.Cabin.Door.Row1.DriverSide.IsOpen))';
    const error = problems(
      configFile(
        minimal(`rules:
  - name: speeding
    type: event
    when: "${unclosed}"
  - name: doors
    type: event
    when: "${extra}"
`),
      ),
    );
    expect(error.issues).toEqual([
      { path: 'rules[0].when', message: `unexpected end of expression, expected ')' at column ${unclosed.length + 1}`, line: 19 },
      { path: 'rules[1].when', message: `unexpected ')' at column ${extra.lastIndexOf(')') + 1}`, line: 22 },
    ]);
  });

  it('checks expression meaning: unknown signals, functions, states, profile-only conditions', () => {
    const error = problems(
      configFile(
        minimal(`states:
  ignition: "Ignition == 1"
  driving: "ignition and Vehicle.Sped > 3"
  loop_a: "loop_b"
  loop_b: "loop_a"
rules:
  - name: a
    type: event
    when: "rising(Vehicle.Speed > 3) and avrg(Vehicle.Speed, \\"5s\\") > 2"
  - name: b
    type: regular
    period: 1s
    profile: "Vehicle.Speed > 3"
    signals: [Vehicle.Speed, Vehicle.Odometer]
  - name: c
    type: event
    when: "model_year > 2000"
  - name: d
    type: event
    when: 'avg(Vehicle.Speed, "10 sec") > 3'
`),
      ),
    );
    expect(error.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      "states.driving: unknown signal 'Vehicle.Sped' (did you mean 'Vehicle.Speed'?) at column 14",
      "states.loop_a: state 'loop_a' refers to itself (loop_a -> loop_b -> loop_a) at column 1",
      "states.loop_b: state 'loop_b' refers to itself (loop_b -> loop_a -> loop_b) at column 1",
      "rules[0].when: unknown function 'avrg' (did you mean 'avg'?) at column 31",
      'rules[1].profile: may only use vehicle fields (vin, brand, model, fuel_type, model_year), not signals',
      "rules[1].signals[1]: unknown signal 'Vehicle.Odometer' (not in signals:)",
      'rules[2].when: reads no signal, so it would never be evaluated',
      'rules[3].when: avg() window must be a duration like "10s" at column 20',
    ]);
  });

  it('monitors: { lat, lon } points only, margin and dwell per monitor', () => {
    const error = problems(
      configFile(
        minimal(`monitors:
  geofences:
    - { name: a, shape: polygon, points: [[48.9, 2.27], { lat: 48.9, lon: 2.41 }, { lat: 48.8, lon: 2.41 }] }
    - { name: b, shape: circle, center: [48.9, 2.27], radius_m: 100, margin_m: -1, dwell: 5 }
  thresholds:
    - { name: c, signal: Vehicle.Speed, above: 130, dwell: 2s, margin_m: 3 }
`),
      ),
    );
    const pair = 'must be { lat: <degrees>, lon: <degrees> }: a [a, b] pair is ambiguous (GeoJSON writes [lon, lat], most tools [lat, lon])';
    expect(error.issues.map((i) => `${i.line} ${i.path}: ${i.message}`)).toEqual([
      `18 monitors.geofences[0].points[0]: ${pair}`,
      '19 monitors.geofences[1].margin_m: must be >= 0, got -1',
      '19 monitors.geofences[1].dwell: must be a duration like "10s" or "500ms", got 5',
      `19 monitors.geofences[1].center: ${pair}`,
      "21 monitors.thresholds[0].margin_m: unknown key (known: signal, name, above, below, hysteresis, priority, dwell)",
    ]);
  });

  it('features: the ignition is states.ignition, not a features key', () => {
    const error = problems(
      configFile(
        minimal(`states:
  ignition: "Ignition == 1"
features:
  ignition: { signal: Ignition, on_at_least: 1 }
  ignition_timout: 30s
`),
      ),
    );
    expect(error.issues.map((i) => `${i.line} ${i.path}: ${i.message}`)).toEqual([
      '19 features.ignition: the ignition is defined once, as states.ignition (an expression such as "Vehicle.LowVoltageSystemState >= 2"), ' +
        'which drives both the ignition_on/off events and the trips; the silence timeout is features.ignition_timeout',
      "20 features.ignition_timout: unknown key (did you mean 'ignition_timeout'?)",
    ]);
    const config = loadAgentConfig(configFile(minimal('states: { ignition: "Ignition == 1" }\nfeatures: { ignition_timeout: 2m }\n')));
    expect(config.features.ignition).toMatchObject({ states: { ignition: 'Ignition == 1' }, timeoutS: 120 });
    expect(config.features.ignition.signalNames).toEqual(['Vehicle.Speed', 'Vehicle.Cabin.Door.Row1.DriverSide.IsOpen', 'Ignition']);
  });

  it('refuses YAML syntax errors with their line', () => {
    const error = problems(configFile('vehicle:\n  vin: [unclosed\nbuses: []\n'));
    expect(error.issues.length).toBeGreaterThan(0);
    expect(error.issues[0].line).toBeGreaterThanOrEqual(2);
    expect(error.message).toMatch(/roadlink\.yaml:\d+: /);
  });

  it('refuses a missing required section and a duplicate source, bus or rule name', () => {
    const error = problems(
      configFile(`buses:
  - { name: a, driver: socketcan, interface: can0, dbc: [${JSON.stringify(DBC)}] }
  - { name: a, driver: replay, dbc: [${JSON.stringify(DBC)}] }
signals:
  Vehicle.Speed: HS2_DYN_ABR_38D.VITESSE_VEHICULE_ROUES
  Speed2: HS2_DYN_ABR_38D.VITESSE_VEHICULE_ROUES
  Other: nobus:Dat_BSI.DRIVER_DOOR
rules:
  - { name: r, type: regular, period: 1s, signals: [Vehicle.Speed] }
  - { name: r, type: event, when: "Vehicle.Speed > 1" }
`),
    );
    expect(error.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'vehicle: is required',
      'buses[1].log: is required',
      "buses[1].name: duplicate bus name 'a'",
      "signals.Speed2: same source as 'Vehicle.Speed' (one DBC signal feeds one vehicle signal)",
      "signals.Other: bus 'nobus' is not in buses (a)",
      "rules[1].name: duplicate rule name 'r'",
    ]);
  });
});

describe('files the agent writes', () => {
  it('go next to the configuration, or into systemd\'s state directory when the agent runs as a service', () => {
    const path = configFile(minimal('storage: { path: data/roadlink.db }\n'));
    const saved = process.env.STATE_DIRECTORY;
    try {
      delete process.env.STATE_DIRECTORY;
      expect(loadAgentConfig(path).storage.path).toBe(join(dirname(path), 'data/roadlink.db'));
      process.env.STATE_DIRECTORY = '/var/lib/roadlink:/var/lib/other';
      const config = loadAgentConfig(path);
      expect(config.storage.path).toBe('/var/lib/roadlink/data/roadlink.db');
      expect(config.commands.auditLog.path).toBe('/var/lib/roadlink/commands-audit.jsonl');
      // A DBC is read, not written: it stays relative to the configuration.
      expect(config.buses[0].dbc[0]).toBe(DBC);
    } finally {
      if (saved === undefined) delete process.env.STATE_DIRECTORY;
      else process.env.STATE_DIRECTORY = saved;
    }
  });

  it("refuses synchronous: off (a power cut could corrupt the store)", () => {
    const error = problems(configFile(minimal('storage: { synchronous: "off" }\n')));
    expect(error.message).toMatch(/storage\.synchronous: .*normal.*full/);
  });
});
