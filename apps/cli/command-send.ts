/**
 * `roadlink command send`: signs a remote command, publishes it to a vehicle and prints each
 * CommandResponse for it as a JSON line until the final one (backend/command-client.ts).
 * Exit status: 0 SUCCEEDED, 1 any other final state, 3 no final response in time, 2 usage errors.
 */
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { parseCommandLine, UsageError } from './cli-options.js';
import { CommandState, type CommandResponse } from '../../proto/gen/roadlink.js';
import { loadSigningKey, sendCommand } from '../../backend/command-client.js';
import { stateName } from '../../agent/commands/command-processor.js';
import { parseDuration } from '../../agent/config/units.js';
import { BROKER_ARGS, BROKER_ARGS_USAGE, brokerOptionsFromArgs, BrokerOptionsError } from '../../wire/broker-options.js';
import { checkVin } from '../../wire/topics.js';

export const usage = `usage: roadlink command send --broker URL --vin VIN --key FILE [options] NAME [ARG=VALUE ...]

Signs the command NAME (Ed25519, key FILE) for vehicle VIN, publishes it on roadlink/v1/VIN/cmd/req
and prints every response for it as a JSON line (IN_PROGRESS, then SUCCEEDED, FAILED, TIMEOUT or
REJECTED with a reason). Exit status 0 on SUCCEEDED, 1 on another final state, 3 when no final
response came within --timeout.

options:
${BROKER_ARGS_USAGE}  --vin VIN           the vehicle (required)
  --key FILE          Ed25519 private key, PEM (roadlink keys generate) (required)
  --key-id ID         key id in the vehicle's config (default: FILE's name without .key.pem)
  --ttl DURATION      validity of the command from now (default 30s)
  --timeout DURATION  how long to wait for the final response (default 20s)
  --id ID             command id (default: a random UUID); the same id again returns the first result
  -h, --help          this help

example:
  roadlink command send --broker mqtt://localhost:1883 --vin VF3ABCDEFGH123456 \\
    --key keys/roadlink-backend.key.pem preconditioning_on target_temp_c=21
`;

export interface CommandSendIo {
  stdout: Writable;
  stderr: Writable;
}

function parseOptions(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...BROKER_ARGS,
      vin: { type: 'string' },
      key: { type: 'string' },
      'key-id': { type: 'string' },
      ttl: { type: 'string' },
      timeout: { type: 'string' },
      id: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help' as const;
  const [sub, name, ...pairs] = positionals;
  if (sub !== 'send') throw new UsageError(sub === undefined ? 'missing subcommand (send)' : `unknown subcommand '${sub}'`);
  const broker = brokerOptionsFromArgs(values);
  if (!broker) throw new UsageError('--broker URL is required');
  if (!values.vin) throw new UsageError('--vin VIN is required');
  if (!values.key) throw new UsageError('--key FILE is required');
  if (!name) throw new UsageError('the command NAME is required');
  const args: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`argument '${pair}' is not ARG=VALUE`);
    args[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const duration = (option: string, text: string | undefined, fallback: number): number => {
    if (text === undefined) return fallback;
    const ms = parseDuration(text);
    if (ms === undefined || ms <= 0) throw new UsageError(`--${option} wants a duration like 30s or 500ms, got '${text}'`);
    return ms;
  };
  try {
    checkVin(values.vin);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    broker,
    vin: values.vin,
    keyFile: values.key,
    keyId: values['key-id'],
    id: values.id,
    ttlMs: duration('ttl', values.ttl, 30_000),
    timeoutMs: duration('timeout', values.timeout, 20_000),
    name,
    args,
  };
}

/** One response as the JSON line the command prints. */
export function responseLine(response: CommandResponse): string {
  return JSON.stringify({
    id: response.id,
    state: stateName(response.state),
    reason: response.reason,
    detail: response.detail,
    time: new Date(response.timeMs).toISOString(),
  });
}

export async function runCommandSend(argv: string[], io: CommandSendIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const parsed = parseCommandLine('command', usage, () => parseOptions(argv), io);
  if ('exitCode' in parsed) return parsed.exitCode;
  const { options } = parsed;
  let key;
  try {
    key = loadSigningKey(options.keyFile, options.keyId);
  } catch (error) {
    io.stderr.write(`roadlink command: ${(error as Error).message}\n`);
    return 2;
  }
  try {
    const outcome = await sendCommand({
      broker: options.broker,
      key,
      command: { vin: options.vin, name: options.name, args: options.args, ttlMs: options.ttlMs, id: options.id },
      timeoutMs: options.timeoutMs,
      onResponse: (response) => io.stdout.write(`${responseLine(response)}\n`),
    });
    if (!outcome.final) {
      io.stderr.write(`roadlink command: no final response for ${outcome.id} within ${options.timeoutMs} ms\n`);
      return 3;
    }
    return outcome.final.state === CommandState.COMMAND_STATE_SUCCEEDED ? 0 : 1;
  } catch (error) {
    if (error instanceof BrokerOptionsError) {
      io.stderr.write(`roadlink command: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}
