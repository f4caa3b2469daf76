/**
 * `roadlink backend`: the server (apps/cli/backend-server.ts: database, ingest, Web API), or the
 * reference receiver (backend/receiver.ts) — `roadlink backend receive ...`, or any of the
 * receiver's own options (--out, --group, --no-share, --client-id without --db, --max-messages,
 * --jsonl): JSON Lines to stdout or --out FILE; gaps, duplicates and the final summary on stderr.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { parseCommandLine, UsageError } from './cli-options.js';
import { BROKER_ARGS, BROKER_ARGS_USAGE, brokerOptionsFromArgs, BrokerOptionsError } from '../../wire/broker-options.js';
import { describeSummary, Receiver } from '../../backend/receiver.js';

export const usage = `usage: roadlink backend receive --broker URL [options]
       (or roadlink backend --jsonl --broker URL ...; without receive/--jsonl/--out, roadlink backend is the server: roadlink backend --help)

Receives every vehicle's uplink messages (roadlink/v1/+/...) and writes one JSON line per message:
vin, type, sequence, RFC 3339 times, GeoJSON positions and named sample values (from the vehicle's
Checkin signal table). Sequence gaps and duplicates per vehicle and stream go to stderr, and a
summary at exit (Ctrl-C / SIGTERM, or after --max-messages). Several receivers with the same
--group share the load (MQTT 5 shared subscriptions).

options:
${BROKER_ARGS_USAGE}  --out FILE          append the JSON lines to FILE instead of stdout
  --group NAME        shared-subscription group (default roadlink-backend)
  --no-share          plain subscriptions: this receiver takes every message (with --client-id,
                      survives broker restarts even where shared subscriptions are not persisted)
  --client-id ID      fixed client id: a persistent session, messages wait while the receiver is away
  --max-messages N    exit after N messages (error lines count)
  -h, --help          this help
`;

export interface BackendIo {
  stdout: Writable;
  stderr: Writable;
  /** Stops the receiver (the CLI wires SIGINT/SIGTERM to it). */
  signal?: AbortSignal;
}

function parseOptions(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...BROKER_ARGS,
      out: { type: 'string' },
      group: { type: 'string' },
      'no-share': { type: 'boolean' },
      'client-id': { type: 'string' },
      'max-messages': { type: 'string' },
      jsonl: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help' as const;
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const broker = brokerOptionsFromArgs(values);
  if (!broker) throw new UsageError('--broker URL is required');
  const maxText = values['max-messages'];
  const maxMessages = maxText === undefined ? Infinity : Number(maxText);
  if (!(Number.isInteger(maxMessages) && maxMessages > 0) && maxText !== undefined) {
    throw new UsageError(`--max-messages wants a positive integer, got '${maxText}'`);
  }
  return {
    broker,
    out: values.out,
    group: values.group,
    shared: !values['no-share'],
    clientId: values['client-id'],
    maxMessages,
  };
}

/** Runs `roadlink backend`; resolves to the exit code once stopped. */
export async function runBackend(argv: string[], io: BackendIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const { stderr } = io;
  const parsed = parseCommandLine('backend', usage, () => parseOptions(argv), io);
  if ('exitCode' in parsed) return parsed.exitCode;
  const { options } = parsed;

  let file: WriteStream | undefined;
  if (options.out) {
    file = createWriteStream(options.out, { flags: 'a' });
    await Promise.race([once(file, 'open'), once(file, 'error').then(([e]) => Promise.reject(e as Error))]).catch((e: Error) => {
      throw new Error(`cannot write ${options.out}: ${e.message}`);
    });
  }
  const out = file ?? io.stdout;

  let isStopped = false;
  let abort!: () => void;
  const stopped = new Promise<void>((resolve) => {
    abort = () => {
      isStopped = true;
      resolve();
    };
  });
  io.signal?.addEventListener('abort', abort);
  if (io.signal?.aborted) abort();
  let lines = 0;
  let receiver: Receiver;
  try {
    receiver = new Receiver({
      broker: options.broker,
      group: options.group,
      shared: options.shared,
      clientId: options.clientId,
      log: (level, message) => stderr.write(`${level}: ${message}\n`),
      writeLine: (line) => {
        out.write(`${line}\n`);
        if (++lines >= options.maxMessages) abort();
      },
    });
  } catch (e) {
    if (e instanceof BrokerOptionsError) {
      stderr.write(`roadlink backend: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  let status = 0;
  await Promise.race([receiver.start(), stopped]).catch((e: Error) => {
    stderr.write(`roadlink backend: ${e.message}\n`);
    status = 1;
    abort();
  });
  if (!isStopped) stderr.write(`roadlink backend: receiving from ${options.broker.url}\n`);
  await stopped;
  io.signal?.removeEventListener('abort', abort);
  const summary = await receiver.stop();
  if (file) await new Promise<void>((resolve) => file.end(resolve));
  for (const line of describeSummary(summary)) stderr.write(`summary: ${line}\n`);
  stderr.write(`summary: ${JSON.stringify(summary)}\n`);
  return status;
}

const RECEIVER_ONLY = ['--out', '--group', '--no-share', '--max-messages', '--jsonl'];

/** Which `roadlink backend` this is: the JSON-lines receiver, or the server. */
export function isReceiverCommand(argv: readonly string[]): boolean {
  if (argv[0] === 'receive') return true;
  const names = argv.map((a) => a.split('=')[0]);
  return names.some((n) => RECEIVER_ONLY.includes(n)) || (names.includes('--client-id') && !names.includes('--db'));
}

/** The CLI entry: SIGINT/SIGTERM stop the receiver (and print the summary) or the server. */
export async function runBackendCli(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const io = { stdout: process.stdout, stderr: process.stderr, signal: controller.signal };
    if (!isReceiverCommand(argv)) return await (await import('./backend-server.js')).runBackendServer(argv, io);
    return await runBackend(argv[0] === 'receive' ? argv.slice(1) : argv, io);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
