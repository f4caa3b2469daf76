/**
 * Remote rules updates (topic .../rules, SignedRulesUpdate → RulesAck on .../rules/ack).
 *
 * Checked like commands (signature with a key allowed for `rules`, vin, issue time not beyond the
 * clock skew in the future), plus: the version must be greater than the active one, which also
 * refuses replays. The update replaces (patch false) or patches (upsert by name, `remove` names) the
 * rules, states and monitors; the whole result is checked before anything changes: its shape by
 * the config readers (agent/config/rules-document.ts), rule and monitor names distinct, and its
 * expressions by the rules engine's own atomic replaceRules (which installs nothing on a problem).
 * Then the monitors are set and the result is written to the store's state table, so that a restart
 * keeps it (restore()); if either step fails, the previous rules are put back.
 *
 * The config file's rules are the base until the first accepted update; after that the persisted
 * version wins over the config at start (a backend "replace" goes back to any rule set).
 */
import { RulesAck, type IRulesAck, type RulesUpdate } from '../../proto/gen/roadlink.js';
import { ConfigError } from '../config/config-error.js';
import { parseRulesJson } from '../config/rules-document.js';
import type { MonitorsConfig } from '../config/sections/monitors.js';
import type { RuleConfig, StatesConfig } from '../config/sections/rules.js';
import type { AuditLog } from './audit-log.js';
import { Keyring } from '../../wire/command-keys.js';
import type { StateStore } from './command-ledger.js';
import type { CommandKeyConfig } from '../config/sections/commands.js';
import { openEnvelope, SIGNED_RULES_UPDATE } from '../../wire/signed-envelope.js';
import type { Logger } from '../../wire/log.js';

/** The part of the RulesEngine (agent/rules/rules-engine.ts) an update goes through. */
export interface RulesHost {
  readonly rules: readonly RuleConfig[];
  readonly states: StatesConfig;
  /** Atomic: throws ConfigError and keeps the running rules when anything is wrong. */
  replaceRules(rules: readonly RuleConfig[], states?: StatesConfig): void;
}

export interface ActiveRules {
  version: number;
  rules: RuleConfig[];
  states: StatesConfig;
  monitors: MonitorsConfig;
}

export interface RulesUpdaterOptions {
  vin: string;
  /** config.commands.keys (those whose `use` includes rules may sign updates). */
  keys: readonly CommandKeyConfig[];
  engine: RulesHost;
  /** Monitors in force at start (config.monitors). */
  monitors: MonitorsConfig;
  /** Installs a new monitor set (features.setMonitors). */
  setMonitors: (monitors: MonitorsConfig) => void;
  /** Vehicle signal names (vehicleSignalNames(config)), for the monitors' signals. */
  signalNames: readonly string[];
  store: StateStore;
  /** Publishes a serialised RulesAck (uplink.publishRulesAck). */
  publishAck: (bytes: Uint8Array) => Promise<void> | void;
  audit?: AuditLog;
  /** Default 30 s. */
  clockSkewMs?: number;
  now?: () => number;
  log?: Logger;
}

export const RULES_STATE_KEY = 'rules.active';

/** An update refused before it was applied; `version` is known once the update could be read. */
class Refusal extends Error {
  constructor(
    message: string,
    readonly version = 0,
  ) {
    super(message);
  }
}

export class RulesUpdater {
  private readonly keyring: Keyring;
  private readonly now: () => number;
  private readonly log: NonNullable<RulesUpdaterOptions['log']>;
  private active: ActiveRules;

  constructor(private readonly options: RulesUpdaterOptions) {
    this.keyring = new Keyring(options.keys);
    this.now = options.now ?? Date.now;
    this.log = options.log ?? ((level, message) => console.error(`roadlink rules ${level}: ${message}`));
    this.active = { version: 0, rules: [...options.engine.rules], states: { ...options.engine.states }, monitors: options.monitors };
  }

  get activeVersion(): number {
    return this.active.version;
  }

  get activeRules(): Readonly<ActiveRules> {
    return this.active;
  }

  /**
   * Installs the persisted rules, if any (call once at start, after building the engine from the
   * config). When they no longer install (the catalog changed), the config's rules stay, the error
   * is logged, and the persisted version still bounds what updates are accepted.
   */
  restore(): number {
    const bytes = this.options.store.getState(RULES_STATE_KEY);
    if (bytes === undefined) return 0;
    let saved: ActiveRules;
    try {
      saved = JSON.parse(Buffer.from(bytes).toString('utf8')) as ActiveRules;
      if (!Number.isInteger(saved.version) || !Array.isArray(saved.rules)) throw new Error('not a saved rule set');
    } catch (error) {
      this.log('error', `persisted rules (state ${RULES_STATE_KEY}) are unreadable, keeping the config's: ${(error as Error).message}`);
      return 0;
    }
    try {
      this.options.engine.replaceRules(saved.rules, saved.states);
      this.options.setMonitors(saved.monitors);
      this.active = saved;
    } catch (error) {
      this.active = { ...this.active, version: saved.version };
      this.log('error', `persisted rules version ${saved.version} do not install any more, keeping the config's: ${(error as Error).message}`);
    }
    return saved.version;
  }

  /** Handles one rules payload; publishes and returns the ack. Never throws. */
  async handle(bytes: Uint8Array): Promise<RulesAck> {
    let version = 0;
    let ack: IRulesAck;
    try {
      const update = this.open(bytes);
      version = update.version;
      this.apply(update);
      ack = { version, accepted: true, error: '', activeVersion: this.active.version };
    } catch (error) {
      if (error instanceof Refusal) version = error.version;
      const message = error instanceof ConfigError ? error.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ') : (error as Error).message;
      if (!(error instanceof Refusal || error instanceof ConfigError)) this.log('error', `rules update ${version}: ${message}`);
      ack = { version, accepted: false, error: message, activeVersion: this.active.version };
    }
    this.options.audit?.write({ event: 'rules_update', version, accepted: ack.accepted, error: ack.error, active_version: ack.activeVersion });
    const message = RulesAck.create(ack);
    const encoded = RulesAck.encode(message).finish();
    try {
      await this.options.publishAck(encoded);
    } catch (error) {
      this.log('warn', `cannot publish the rules ack: ${(error as Error).message}`);
    }
    return message;
  }

  private open(bytes: Uint8Array): RulesUpdate {
    const opened = openEnvelope(bytes, SIGNED_RULES_UPDATE, this.keyring);
    if (!opened.ok) throw new Refusal(`${opened.reason}: ${opened.detail}`);
    const update = opened.message;
    const skew = this.options.clockSkewMs ?? 30_000;
    const refuse = (message: string) => new Refusal(message, update.version);
    if (update.vin !== this.options.vin) throw refuse(`wrong_vin: for VIN ${JSON.stringify(update.vin.slice(0, 32))}, this is ${this.options.vin}`);
    if (update.issuedAtMs - skew > this.now()) throw refuse(`not_yet_valid: issued ${update.issuedAtMs - this.now()} ms in the future`);
    if (update.version <= this.active.version) throw refuse(`stale_version: version ${update.version} is not greater than the active ${this.active.version}`);
    if (!update.patch && update.remove.length > 0) throw refuse('malformed: remove is only allowed with patch');
    return update;
  }

  private apply(update: RulesUpdate): void {
    const doc = parseRulesJson(update.rulesJson, this.options.signalNames);
    const current = this.active;
    let next: ActiveRules;
    if (update.patch) {
      const known = new Set([...current.rules, ...current.monitors.geofences, ...current.monitors.thresholds].map((x) => x.name));
      const unknown = update.remove.filter((name) => !known.has(name));
      if (unknown.length > 0) throw new ConfigError([{ path: 'remove', message: `no rule or monitor named ${unknown.join(', ')}` }]);
      const keep = <T extends { name: string }>(list: readonly T[]) => list.filter((x) => !update.remove.includes(x.name));
      next = {
        version: update.version,
        rules: upsertByName(keep(current.rules), doc.rules),
        states: { ...current.states, ...doc.states },
        monitors: {
          geofences: upsertByName(keep(current.monitors.geofences), doc.monitors.geofences),
          thresholds: upsertByName(keep(current.monitors.thresholds), doc.monitors.thresholds),
        },
      };
    } else {
      next = { version: update.version, rules: doc.rules, states: doc.states ?? current.states, monitors: doc.monitors };
    }
    checkDistinctNames(next);

    const engine = this.options.engine;
    engine.replaceRules(next.rules, next.states); // throws ConfigError with nothing changed
    try {
      this.options.setMonitors(next.monitors);
      this.options.store.putState(RULES_STATE_KEY, Buffer.from(JSON.stringify(next), 'utf8'));
    } catch (error) {
      engine.replaceRules(current.rules, current.states);
      this.options.setMonitors(current.monitors);
      throw new Error(`not applied: ${(error as Error).message}`);
    }
    this.active = next;
  }
}

/** `list` with the items of `upsert` replacing those of the same name in place, new ones appended. */
function upsertByName<T extends { name: string }>(list: readonly T[], upsert: readonly T[]): T[] {
  const byName = new Map(upsert.map((x) => [x.name, x]));
  const out = list.map((x) => byName.get(x.name) ?? x);
  for (const x of upsert) if (!list.some((y) => y.name === x.name)) out.push(x);
  return out;
}

/** A removal names one thing: rule and monitor names must be distinct (as the config requires). */
function checkDistinctNames(rules: ActiveRules): void {
  const seen = new Set<string>();
  const issues: { path: string; message: string }[] = [];
  for (const x of [...rules.rules, ...rules.monitors.geofences, ...rules.monitors.thresholds]) {
    if (seen.has(x.name)) issues.push({ path: x.name, message: `'${x.name}' names more than one rule or monitor` });
    seen.add(x.name);
  }
  if (issues.length > 0) throw new ConfigError(issues);
}
