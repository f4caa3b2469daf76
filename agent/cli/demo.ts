/** `roadlink demo` (what `npm start` runs): the whole system on this machine; see agent/demo/demo-runner.ts. */
import { parseArgs } from 'node:util';
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

export async function runDemoCli(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { dir: { type: 'string' }, broker: { type: 'string' }, 'keep-running': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    process.stderr.write(`roadlink demo: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const { command } = await runDemo({ dir: values.dir, brokerUrl: values.broker, keepRunning: values['keep-running'] });
  return command.final ? 0 : 1;
}
