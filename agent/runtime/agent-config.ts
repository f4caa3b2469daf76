/**
 * The agent's configuration, checked all the way: agent/config/ parses and validates each section;
 * here the compile steps it cannot run itself (it imports neither rules nor commands) check the
 * result: every rule expression through the rules engine's compiler, every command precondition
 * and confirmation through the commands' condition compiler. Their problems are reported like the
 * others, as `file:line: key.path: reason`.
 */
import type { Config } from '../config/config.js';
import { vehicleSignalNames } from '../config/config.js';
import type { PathSegment } from '../config/config-error.js';
import { loadConfig, parseConfig, type ConfigCheck } from '../config/load-config.js';
import { vehicleProfileFields } from '../config/sections/vehicle.js';
import { compileCondition } from '../commands/signal-condition.js';
import { ExpressionError } from '../rules/expression/expression-parser.js';
import { compileRuleSet } from '../rules/rule-compiler.js';

/** loadConfig with the agent's compile checks. */
export function loadAgentConfig(path: string): Config {
  return loadConfig(path, AGENT_CHECKS);
}

/** parseConfig with the agent's compile checks. */
export function parseAgentConfig(text: string, source: { file?: string; baseDir: string }): Config {
  return parseConfig(text, source, AGENT_CHECKS);
}

/** Runs the rule compiler (the engine's own) so that expression problems carry their key path and line. */
const ruleExpressions: ConfigCheck = (config) =>
  compileRuleSet({
    signalNames: vehicleSignalNames(config),
    profile: vehicleProfileFields(config.vehicle),
    states: config.states,
    rules: config.rules,
  }).issues;

/** Compiles each command's preconditions and confirmation as the command processor will. */
function* commandConditions(config: Config): Iterable<{ path: PathSegment[]; message: string }> {
  const env = { signalNames: vehicleSignalNames(config), states: config.states, profile: vehicleProfileFields(config.vehicle) };
  for (const command of config.commands.catalog) {
    const at = ['commands', 'catalog', command.name];
    const conditions: [PathSegment[], string][] = command.preconditions.map((p) => [[...at, 'preconditions', p.name], p.when]);
    if (command.confirm !== undefined) conditions.push([[...at, 'confirm'], command.confirm]);
    for (const [path, text] of conditions) {
      try {
        compileCondition(text, env);
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        yield { path, message: error.message };
      }
    }
  }
}

const AGENT_CHECKS: readonly ConfigCheck[] = [ruleExpressions, commandConditions];
