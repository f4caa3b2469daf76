/**
 * `roadlink run --config FILE`: the agent, until SIGINT/SIGTERM (or, with --exit-at-end, until every
 * replayed log has been played and uploaded).
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import { loadConfig } from '../config/load-config.js';
import { DbcError } from '../decode/dbc-loader.js';
import { Agent } from '../runtime/agent.js';
import { stderrLogger } from '../runtime/logger.js';

export const usage = `usage: roadlink run --config FILE [options]

Runs the agent with the configuration in FILE (YAML or JSON; see the README's configuration reference).

options:
  --config FILE          the configuration (required)
  --broker URL           use this broker instead of the configuration's uplink.broker
  --log-timestamps       replayed frames keep the log's times (default: stamped with the current time)
  --exit-at-end          exit once every replayed log has been played and the store is drained
  --stats-interval SEC   log the agent's counters every SEC seconds (default 60, 0 = never)
  -h, --help             this help
`;

export async function runAgentCli(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        broker: { type: 'string' },
        'log-timestamps': { type: 'boolean' },
        'exit-at-end': { type: 'boolean' },
        'stats-interval': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`roadlink run: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (!values.config) {
    process.stderr.write(`roadlink run: --config FILE is required\n\n${usage}`);
    return 2;
  }
  const statsS = Number(values['stats-interval'] ?? 60);
  if (!Number.isFinite(statsS) || statsS < 0) {
    process.stderr.write(`roadlink run: --stats-interval wants a number of seconds, got '${values['stats-interval']}'\n`);
    return 2;
  }

  let agent: Agent;
  try {
    const config = loadConfig(values.config);
    if (values.broker) {
      if (!config.uplink) {
        process.stderr.write(`roadlink run: --broker: ${values.config} has no uplink: section to use it with\n`);
        return 2;
      }
      config.uplink.broker = values.broker;
    }
    agent = await Agent.start(config, { replayTimestamps: values['log-timestamps'] ? 'log' : 'wall', log: stderrLogger(config.logLevel) });
  } catch (err) {
    if (err instanceof ConfigError || err instanceof DbcError) {
      process.stderr.write(`roadlink run: ${err.message}\n`);
      return 1;
    }
    throw err;
  }

  const log = stderrLogger(agent.config.logLevel);
  const statsTimer = statsS > 0 ? setInterval(() => log('info', `stats ${JSON.stringify(agent.stats())}`), statsS * 1000) : undefined;
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const reason = await Promise.race([stopped, values['exit-at-end'] ? agent.replaysEnded.then(() => agent.drained()).then(() => 'end of replay') : new Promise<string>(() => {})]);
  clearInterval(statsTimer);
  log('info', `stopping (${reason})`);
  await agent.stop();
  log('info', `stopped; ${JSON.stringify(agent.stats())}`);
  return 0;
}
