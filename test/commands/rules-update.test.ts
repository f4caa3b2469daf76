import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RulesAck, SignedRulesUpdate } from '../../proto/gen/roadlink.js';
import { signRulesUpdate } from '../../backend/command-client.js';
import { signBytes } from '../../wire/command-keys.js';
import { RulesUpdater } from '../../agent/commands/rules-update.js';
import { vehicleSignalNames, type Config } from '../../agent/config/config.js';
import type { MonitorsConfig } from '../../agent/config/sections/monitors.js';
import { rulesEngineFor } from '../../agent/rules/engine-from-config.js';
import type { RulesEngine } from '../../agent/rules/rules-engine.js';
import { Store } from '../../agent/store/store.js';
import { RuleOutputCollector } from '../helpers/rule-output-collector.js';
import { newKey, testConfig, VIN } from './fixtures.js';

const backend = newKey('backend');
const commandsOnly = newKey('commands-only');

const BASE_RULES = {
  rules: [{ name: 'base_speed', type: 'regular', period: '1s', signals: ['Vehicle.Speed'] }],
  monitors: { thresholds: [{ name: 'hot_cabin', signal: 'Vehicle.Cabin.HVAC.AmbientAirTemperature', above: 45 }] },
};

interface Agent {
  store: Store;
  engine: RulesEngine;
  output: RuleOutputCollector;
  updater: RulesUpdater;
  monitors: MonitorsConfig[];
  acks: RulesAck[];
}

let dir = '';
let config: Config;
const agents: Agent[] = [];

function start(): Agent {
  const store = Store.open({ path: join(dir, 'roadlink.db'), signalGrid: () => ({ scale: 1, offset: 0 }) });
  const output = new RuleOutputCollector();
  const engine = rulesEngineFor(config, output);
  const monitors: MonitorsConfig[] = [];
  const acks: RulesAck[] = [];
  const updater = new RulesUpdater({
    vin: VIN,
    keys: config.commands.keys,
    engine,
    monitors: config.monitors,
    setMonitors: (m) => monitors.push(m),
    signalNames: vehicleSignalNames(config),
    store,
    publishAck: (bytes) => void acks.push(RulesAck.decode(bytes)),
    log: () => {},
  });
  const agent = { store, engine, output, updater, monitors, acks };
  agents.push(agent);
  return agent;
}

function stop(agent: Agent): void {
  agent.store.close();
  agents.splice(agents.indexOf(agent), 1);
}

afterEach(() => {
  for (const agent of agents.splice(0)) agent.store.close();
  rmSync(dir, { recursive: true, force: true });
});

function setup(): Agent {
  dir = mkdtempSync(join(tmpdir(), 'roadlink-rules-update-'));
  config = testConfig({ dir, keys: [{ key: backend }, { key: commandsOnly, use: ['commands'] }], extra: BASE_RULES });
  return start();
}

const overspeed = { name: 'overspeed', type: 'event', when: 'rising(Vehicle.Speed > 100)' };

describe('rules updates', () => {
  it('replaces rules and monitors, acks, and the new rules run', async () => {
    const agent = setup();
    const rulesJson = JSON.stringify({ rules: [overspeed], monitors: { thresholds: [] } });
    const ack = await agent.updater.handle(signRulesUpdate({ version: 1, vin: VIN, rulesJson }, backend));
    expect(RulesAck.toObject(ack, { defaults: true })).toEqual({ version: 1, accepted: true, error: '', activeVersion: 1 });
    expect(agent.acks).toHaveLength(1);
    expect(agent.engine.rules.map((r) => r.name)).toEqual(['overspeed']);
    expect(agent.monitors.at(-1)).toEqual({ geofences: [], thresholds: [] });
    const speed = agent.engine.signalId('Vehicle.Speed')!;
    agent.engine.push(speed, 1_000_000, 80);
    agent.engine.push(speed, 2_000_000, 120);
    agent.engine.finish();
    expect(agent.output.eventsOf('overspeed')).toHaveLength(1);
  });

  it('keeps an accepted update across a restart', async () => {
    const first = setup();
    await first.updater.handle(signRulesUpdate({ version: 4, vin: VIN, rulesJson: JSON.stringify({ rules: [overspeed] }) }, backend));
    stop(first);
    const second = start();
    expect(second.engine.rules.map((r) => r.name)).toEqual(['base_speed']); // the config's, until restored
    expect(second.updater.restore()).toBe(4);
    expect(second.engine.rules.map((r) => r.name)).toEqual(['overspeed']);
    expect(second.monitors.at(-1)).toEqual({ geofences: [], thresholds: [] });
    // The restored version still refuses older updates.
    const stale = await second.updater.handle(signRulesUpdate({ version: 3, vin: VIN, rulesJson: '{"rules":[]}' }, backend));
    expect(stale).toMatchObject({ accepted: false, activeVersion: 4 });
    expect(stale.error).toMatch(/^stale_version/);
  });

  it('patches: upserts by name, removes rules and monitors, keeps the rest', async () => {
    const agent = setup();
    const rulesJson = JSON.stringify({
      rules: [overspeed, { name: 'base_speed', type: 'regular', period: '5s', signals: ['Vehicle.Speed'] }],
      monitors: { thresholds: [{ name: 'cold_cabin', signal: 'Vehicle.Cabin.HVAC.AmbientAirTemperature', below: 0 }] },
    });
    const ack = await agent.updater.handle(signRulesUpdate({ version: 1, vin: VIN, patch: true, rulesJson, remove: ['hot_cabin'] }, backend));
    expect(ack.accepted).toBe(true);
    expect(agent.engine.rules.map((r) => [r.name, r.type === 'regular' ? r.periodMs : 0])).toEqual([['base_speed', 5000], ['overspeed', 0]]);
    expect(agent.monitors.at(-1)!.thresholds.map((t) => t.name)).toEqual(['cold_cabin']);
    const removal = await agent.updater.handle(signRulesUpdate({ version: 2, vin: VIN, patch: true, rulesJson: '{}', remove: ['overspeed'] }, backend));
    expect(removal.accepted).toBe(true);
    expect(agent.engine.rules.map((r) => r.name)).toEqual(['base_speed']);
  });

  it('refuses invalid results as a whole, with the path of the problem, and changes nothing', async () => {
    const agent = setup();
    const before = agent.engine.rules;
    const refuse = async (version: number, rulesJson: string, extra: { patch?: boolean; remove?: string[] } = {}) => {
      const ack = await agent.updater.handle(signRulesUpdate({ version, vin: VIN, rulesJson, ...extra }, backend));
      expect(ack).toMatchObject({ accepted: false, version, activeVersion: 0 });
      return ack.error;
    };
    expect(await refuse(1, JSON.stringify({ rules: [overspeed, { name: 'bad', type: 'event', when: 'Vehicle.Sped > 1' }] }))).toMatch(
      /rules\[1\]\.when: unknown signal 'Vehicle.Sped'/,
    );
    expect(await refuse(2, '{"rules": [')).toMatch(/rules_json is not JSON/);
    expect(await refuse(3, JSON.stringify({ rules: [{ name: 'x', type: 'sometimes' }] }))).toMatch(/rules\[0\]\.type: must be one of regular \| event/);
    expect(await refuse(4, '{}', { patch: true, remove: ['no_such_rule'] })).toMatch(/no rule or monitor named no_such_rule/);
    expect(await refuse(5, JSON.stringify({ rules: [{ ...overspeed, name: 'hot_cabin' }] }), { patch: true })).toMatch(/'hot_cabin' names more than one rule or monitor/);
    expect(await refuse(6, '{}', { remove: ['base_speed'] })).toMatch(/^malformed: remove is only allowed with patch/);
    expect(agent.engine.rules).toBe(before);
    expect(agent.monitors).toEqual([]);
    expect(agent.updater.activeVersion).toBe(0);
  });

  it('puts the previous rules back when the update cannot be persisted', async () => {
    const agent = setup();
    agent.store.close(); // every putState now fails
    const ack = await agent.updater.handle(signRulesUpdate({ version: 1, vin: VIN, rulesJson: JSON.stringify({ rules: [overspeed] }) }, backend));
    expect(ack).toMatchObject({ accepted: false, activeVersion: 0 });
    expect(ack.error).toMatch(/^not applied: /);
    expect(agent.engine.rules.map((r) => r.name)).toEqual(['base_speed']);
    expect(agent.monitors.at(-1)).toEqual(config.monitors);
    agents.splice(agents.indexOf(agent), 1);
  });

  it('refuses unsigned, wrongly signed, foreign, future and stale updates', async () => {
    const agent = setup();
    const rulesJson = JSON.stringify({ rules: [overspeed] });
    const bad = async (bytes: Uint8Array) => {
      const ack = await agent.updater.handle(bytes);
      expect(ack.accepted).toBe(false);
      return ack.error;
    };
    expect(await bad(Uint8Array.from([0xff, 0xff, 0xff]))).toMatch(/^malformed/);
    const signedByOther = SignedRulesUpdate.decode(signRulesUpdate({ version: 1, vin: VIN, rulesJson }, newKey('x')));
    expect(await bad(SignedRulesUpdate.encode({ ...signedByOther, keyId: 'backend' }).finish())).toMatch(/^bad_signature/);
    expect(await bad(SignedRulesUpdate.encode({ update: signedByOther.update, signature: new Uint8Array(0), keyId: 'backend' }).finish())).toMatch(/^unsigned/);
    const body = signedByOther.update;
    expect(await bad(SignedRulesUpdate.encode({ update: body, signature: signBytes(commandsOnly.privateKey, body), keyId: 'commands-only' }).finish())).toMatch(
      /^key_not_allowed/,
    );
    expect(await bad(signRulesUpdate({ version: 1, vin: 'WVWZZZ1JZXW000001', rulesJson }, backend))).toMatch(/^wrong_vin/);
    expect(await bad(signRulesUpdate({ version: 1, vin: VIN, rulesJson, issuedAtMs: Date.now() + 600_000 }, backend))).toMatch(/^not_yet_valid/);
    expect(await bad(signRulesUpdate({ version: 0, vin: VIN, rulesJson }, backend))).toMatch(/^stale_version/);
    expect(agent.engine.rules.map((r) => r.name)).toEqual(['base_speed']);
    expect(agent.store.getState('rules.active')).toBeUndefined();
  });
});
