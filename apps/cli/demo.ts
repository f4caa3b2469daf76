/** `roadlink demo` (what `npm start` runs): the whole system on this machine; see apps/demo/demo-runner.ts. */
import { parseArgs } from 'node:util';
import { parseCommandLine, type CliIo } from './cli-options.js';
import { CommandState } from '../../proto/gen/roadlink.js';
import { runDemo } from '../demo/demo-runner.js';

export const usage = `usage: roadlink demo [options]

Runs the whole system from nothing but this repository: an embedded MQTT 5 broker, the agent replaying
a scripted 11-minute drive of the demo vehicle (30x faster), the backend receiver printing what arrives,
and a signed remote command (door_lock) confirmed by the simulated body ECU. Ends with a summary.

options:
  --dir DIR          working folder (config copy, drive log, database, keys, received JSON lines);
                     default: a new temporary folder
  --broker URL       use this MQTT 5 broker (e.g. a local mosquitto) instead of the embedded one
  --keep-running     keep everything running after the summary, until Ctrl-C
  -h, --help         this help
`;

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: { dir: { type: 'string' }, broker: { type: 'string' }, 'keep-running': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  return values.help ? ('help' as const) : { dir: values.dir, brokerUrl: values.broker, keepRunning: values['keep-running'] };
}

export async function runDemoCli(argv: string[], io: CliIo = process): Promise<number> {
  const parsed = parseCommandLine('demo', usage, () => parseOptions(argv), io);
  if ('exitCode' in parsed) return parsed.exitCode;
  const { command } = await runDemo(parsed.options);
  return command.final?.state === CommandState.COMMAND_STATE_SUCCEEDED ? 0 : 1;
}
