import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compileCommandCatalog } from '../../agent/commands/command-catalog.js';
import { generateKeyPair, parsePublicKey, rawPublicKeyBase64 } from '../../wire/command-keys.js';
import { vehicleSignalNames, type Config } from '../../agent/config/config.js';
import { ConfigError } from '../../agent/config/config-error.js';
import { loadAgentConfig } from '../../agent/runtime/agent-config.js';
import { loadDbcFile } from '../../agent/decode/dbc-loader.js';
import { configText, DEMO_DBC, newKey, testConfig } from './fixtures.js';

const key = newKey('backend');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'roadlink-commands-config-'));
  dirs.push(dir);
  return dir;
}

function compile(config: Config) {
  return compileCommandCatalog(config.commands.catalog, {
    bindings: [{ bus: 'body', databases: [loadDbcFile(DEMO_DBC).db] }],
    signals: config.signals,
    signalNames: vehicleSignalNames(config),
    states: config.states,
  });
}

/** The ConfigError thrown by `fn`, as "path: message" lines. */
function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  throw new Error('no ConfigError');
}

describe('commands: section', () => {
  it('reads the demo catalog with its defaults and compiles it against the demo DBC', () => {
    const dir = tempDir();
    const config = testConfig({ dir, keys: [{ key }] });
    expect(config.commands).toMatchObject({ maxLifetimeMs: 300_000, clockSkewMs: 30_000, maxInProgress: 2, rememberMs: 900_000 });
    expect(config.commands.keys).toEqual([{ id: 'backend', publicKey: key.publicKey, use: ['commands', 'rules'] }]);
    expect(config.commands.auditLog).toEqual({ path: join(dir, 'audit/commands.jsonl'), maxBytes: 64 * 1024, keep: 2 });
    const lock = config.commands.catalog.find((c) => c.name === 'door_lock');
    expect(lock).toMatchObject({ group: 'doors', timeoutMs: 5000, confirm: 'Roadlink.Body.LockState == "LOCKED"' });
    expect(config.commands.catalog.find((c) => c.name === 'horn')?.group).toBe('horn');
    expect(compile(config).names).toEqual(['door_lock', 'door_unlock', 'horn', 'lights_flash', 'preconditioning_on', 'preconditioning_off']);
  });

  it('reads a PEM public key file, and refuses a file holding something else', () => {
    const dir = tempDir();
    const pair = generateKeyPair();
    writeFileSync(join(dir, 'backend.pub.pem'), pair.publicKeyPem);
    writeFileSync(join(dir, 'backend.key.pem'), pair.privateKeyPem);
    const keys = [{ id: 'good', public_key_file: 'backend.pub.pem' }, { id: 'bad', public_key_file: 'backend.key.pem' }];
    writeFileSync(join(dir, 'roadlink.yaml'), configText({ dir, keys: [], edit: (c) => (c.keys = keys) }));
    expect(problems(() => loadAgentConfig(join(dir, 'roadlink.yaml')))).toEqual([
      expect.stringMatching(/^commands\.keys\[1\]\.public_key_file: not a usable Ed25519 public key: is a private key/),
    ]);
    writeFileSync(join(dir, 'roadlink.yaml'), configText({ dir, keys: [], edit: (c) => (c.keys = keys.slice(0, 1)) }));
    const config = loadAgentConfig(join(dir, 'roadlink.yaml'));
    expect(config.commands.keys[0]).toMatchObject({ id: 'good', publicKey: pair.publicKeyPem });
    expect(rawPublicKeyBase64(parsePublicKey(config.commands.keys[0].publicKey))).toBe(rawPublicKeyBase64(pair.publicKey));
  });

  it('reports every problem with its key path and line', () => {
    const dir = tempDir();
    const text = configText({
      dir,
      keys: [{ key }],
      edit: (c) => {
        c.keys.push({ id: 'broken', public_key: 'AAAA' });
        c.catalog.door_lock.confirm = 'Roadlink.Body.LockStat == "LOCKED"';
        c.catalog.door_lock.timeot = '5s';
        c.catalog.horn.preconditions.quiet = 'avg(Vehicle.Speed, "10s") < 1';
        c.catalog.horn.send[0].signals.RequestCounter = { arg: 'counter' };
        c.catalog.preconditioning_on.args.target_temp_c.max = 10;
        c.catalog.Bad_Name = { send: [] };
      },
    });
    const file = join(dir, 'roadlink.yaml');
    writeFileSync(file, text);
    let error: ConfigError | undefined;
    try {
      loadAgentConfig(file);
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const lines = text.split('\n');
    const lineOf = (snippet: string) => lines.findIndex((l) => l.includes(snippet)) + 1;
    const issue = (path: string) => error!.issues.find((i) => i.path === path);
    expect(issue('commands.keys[1].public_key')).toMatchObject({ message: expect.stringContaining('not a usable Ed25519 public key'), line: lineOf('public_key: AAAA') });
    expect(issue('commands.catalog.door_lock.confirm')).toMatchObject({
      message: expect.stringMatching(/unknown signal 'Roadlink.Body.LockStat'.*did you mean 'Roadlink.Body.LockState'/),
      line: lineOf('Roadlink.Body.LockStat =='),
    });
    expect(issue('commands.catalog.door_lock.timeot')?.message).toContain("did you mean 'timeout'");
    expect(issue('commands.catalog.horn.preconditions.quiet')?.message).toContain('avg() needs a sample history');
    expect(issue('commands.catalog.horn.send[0].signals.RequestCounter.arg')?.message).toContain("'counter' is not declared under args");
    expect(issue('commands.catalog.preconditioning_on.args.target_temp_c.max')?.message).toContain('must be >= min (16)');
    expect(issue('commands.catalog.Bad_Name')?.message).toContain('a command name is');
  });
});

describe('catalog against the DBC', () => {
  it('reports unknown messages and signals, bad labels, out-of-range and missing values, bad confirmation labels', () => {
    const dir = tempDir();
    const config = testConfig({
      dir,
      keys: [{ key }],
      edit: (c) => {
        c.catalog.door_lock.send[0].signals.LockRequest = 'LOCKK';
        c.catalog.door_lock.confirm = 'Roadlink.Body.LockState == "LOCKD"';
        c.catalog.horn.send[0].message = 'TCU_HORN_REQUEST';
        c.catalog.lights_flash.send[0].signals.Flash = 1;
        delete c.catalog.door_unlock.send[0].signals.RequestCounter;
        c.catalog.preconditioning_off.send[0].signals.TargetTemperature = 100;
      },
    });
    const found = problems(() => compile(config));
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^commands\.catalog\.door_lock\.send\[0\]\.signals\.LockRequest: .*'LOCKK' is neither a number nor a label/),
        expect.stringMatching(/^commands\.catalog\.door_lock\.confirm: 'LOCKD' is not a value label of Roadlink\.Body\.LockState \(labels: UNKNOWN, UNLOCKED, LOCKED, FAULT\)/),
        expect.stringMatching(/^commands\.catalog\.horn\.send\[0\]\.message: no DBC of the vehicle defines message TCU_HORN_REQUEST/),
        expect.stringMatching(/^commands\.catalog\.lights_flash\.send\[0\]\.signals\.Flash: TCU_BODY_REQUEST has no signal Flash/),
        expect.stringMatching(/^commands\.catalog\.door_unlock\.send\[0\]\.signals: .*missing value for RequestCounter/),
        expect.stringMatching(/^commands\.catalog\.preconditioning_off\.send\[0\]\.signals\.TargetTemperature: .*100 needs raw 280, outside the 8-bit unsigned range/),
      ]),
    );
    expect(found).toHaveLength(6);
  });

  it('needs bus: when several buses carry the message', () => {
    const dir = tempDir();
    const config = testConfig({ dir, keys: [{ key }] });
    const db = loadDbcFile(DEMO_DBC).db;
    const vehicle = { bindings: [{ bus: 'body', databases: [db] }, { bus: 'chassis', databases: [db] }], signals: config.signals, signalNames: vehicleSignalNames(config) };
    expect(problems(() => compileCommandCatalog(config.commands.catalog, vehicle))[0]).toMatch(/send\[0\]\.bus: message TCU_BODY_REQUEST may go on buses body, chassis: say which with bus:/);
    const onChassis = config.commands.catalog.map((c) => ({ ...c, send: c.send.map((f) => ({ ...f, bus: 'chassis' })) }));
    const frames = compileCommandCatalog(onChassis, vehicle).get('horn')!.buildFrames({});
    expect(frames.map((f) => f.bus)).toEqual(['chassis']);
  });
});
