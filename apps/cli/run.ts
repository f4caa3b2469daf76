/**
 * `roadlink run --config FILE`: the agent, until SIGINT/SIGTERM (or, with --exit-at-end, until every
 * replayed log has been played and uploaded).
 */
import { parseArgs } from 'node:util';
import { parseCommandLine, UsageError, type CliIo } from './cli-options.js';
import { ConfigError } from '../../agent/config/config-error.js';
import { loadAgentConfig } from '../../agent/runtime/agent-config.js';
import { DbcError } from '../../agent/decode/dbc-loader.js';
import { Agent } from '../../agent/runtime/agent.js';
import { SystemdService } from '../../agent/runtime/systemd-service.js';
import { stderrLogger } from '../../wire/log.js';

export const usage = `usage: roadlink run --config FILE [options]

Runs the agent with the configuration in FILE (YAML or JSON; see the README's configuration reference).
Under systemd (Type=notify, $NOTIFY_SOCKET) it reports READY=1, STATUS=, STOPPING=1, and WATCHDOG=1
while healthy ($WATCHDOG_USEC).

options:
  --config FILE          the configuration (required)
  --broker URL           use this broker instead of the configuration's uplink.broker
  --log-timestamps       replayed frames keep the log's times (default: stamped with the current time)
  --exit-at-end          exit once every replayed log has been played and the store is drained
  --stats-interval SEC   log the agent's counters every SEC seconds (default 60, 0 = never)
  -h, --help             this help
`;

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      broker: { type: 'string' },
      'log-timestamps': { type: 'boolean' },
      'exit-at-end': { type: 'boolean' },
      'stats-interval': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help' as const;
  if (!values.config) throw new UsageError('--config FILE is required');
  const statsS = Number(values['stats-interval'] ?? 60);
  if (!Number.isFinite(statsS) || statsS < 0) throw new UsageError(`--stats-interval wants a number of seconds, got '${values['stats-interval']}'`);
  return { config: values.config, broker: values.broker, logTimestamps: values['log-timestamps'] === true, exitAtEnd: values['exit-at-end'] === true, statsS };
}

/** The process's memory, MB: resident (now and peak), V8 heap used and reserved, buffers outside the heap. */
function memoryFigures() {
  const m = process.memoryUsage();
  const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
  const peak = process.resourceUsage().maxRSS * 1024; // kB
  return { rssMB: mb(m.rss), peakRssMB: mb(peak), heapUsedMB: mb(m.heapUsed), heapTotalMB: mb(m.heapTotal), externalMB: mb(m.external) };
}

export async function runAgentCli(argv: string[], io: CliIo = process): Promise<number> {
  const parsed = parseCommandLine('run', usage, () => parseOptions(argv), io);
  if ('exitCode' in parsed) return parsed.exitCode;
  const { options } = parsed;

  let agent: Agent;
  try {
    const config = loadAgentConfig(options.config);
    if (options.broker) {
      if (!config.uplink) {
        io.stderr.write(`roadlink run: --broker: ${options.config} has no uplink: section to use it with\n`);
        return 2;
      }
      config.uplink.broker = options.broker;
    }
    agent = await Agent.start(config, { replayTimestamps: options.logTimestamps ? 'log' : 'wall', log: stderrLogger(config.logLevel, io.stderr) });
  } catch (err) {
    if (err instanceof ConfigError || err instanceof DbcError) {
      io.stderr.write(`roadlink run: ${err.message}\n`);
      return 1;
    }
    throw err;
  }

  const log = stderrLogger(agent.config.logLevel, io.stderr);
  let service: SystemdService | undefined;
  try {
    service = SystemdService.start(agent, log);
  } catch (err) {
    await agent.stop();
    throw err;
  }
  service?.ready();
  const statsTimer = options.statsS > 0 ? setInterval(() => log('info', `stats ${JSON.stringify({ ...agent.stats(), memory: memoryFigures() })}`), options.statsS * 1000) : undefined;
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const reason = await Promise.race([stopped, options.exitAtEnd ? agent.replaysEnded.then(() => agent.drained()).then(() => 'end of replay') : new Promise<string>(() => {})]);
  clearInterval(statsTimer);
  log('info', `stopping (${reason})`);
  service?.stopping(reason);
  await agent.stop();
  service?.close();
  log('info', `stopped; ${JSON.stringify(agent.stats())}`);
  return 0;
}
