/**
 * The rules part of a configuration on its own: what a backend RulesUpdate carries in `rules_json`
 * ({ "states": {...}, "rules": [...], "monitors": {...} }, the config file's JSON form).
 * The shape is checked here; expressions are checked when the engine installs the rules
 * (RulesEngine.replaceRules), against the vehicle's own catalog.
 */
import { ConfigError } from './config-error.js';
import { plainContext, rootReader } from './config-reader.js';
import { readMonitors, type MonitorsConfig } from './sections/monitors.js';
import { readRules, readStates, type RuleConfig, type StatesConfig } from './sections/rules.js';

export interface RulesDocument {
  /** Absent: keep the states in force. */
  states?: StatesConfig;
  rules: RuleConfig[];
  monitors: MonitorsConfig;
}

/** Checks a parsed rules document; throws ConfigError listing every problem. */
export function readRulesDocument(value: unknown, signalNames: Iterable<string>): RulesDocument {
  const context = plainContext();
  const r = rootReader(value, context);
  const document: RulesDocument = {
    states: r?.has('states') ? readStates(r.get('states')) : undefined,
    rules: r ? readRules(r.get('rules')) : [],
    monitors: r ? readMonitors(r.get('monitors'), new Set(signalNames)) : { geofences: [], thresholds: [] },
  };
  r?.done();
  if (context.issues.length > 0) throw new ConfigError(context.issues);
  return document;
}

/** `rules_json` text → RulesDocument (a JSON syntax error is a ConfigError too). */
export function parseRulesJson(json: string, signalNames: Iterable<string>): RulesDocument {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new ConfigError([{ path: '', message: `rules_json is not JSON: ${(error as Error).message}` }]);
  }
  return readRulesDocument(value, signalNames);
}
