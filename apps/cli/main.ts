#!/usr/bin/env node
/**
 * The `roadlink` command line: a table of subcommands, each in its own file under apps/cli/ and
 * loaded only when run (so `roadlink decode` does not load the MQTT or SQLite stacks).
 * To add a command: one line in `commands`, one file exporting its run function.
 */
import { realpathSync } from 'node:fs';
import module from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Node 22.1+ can keep the compiled code of every module it loads on disk (module.enableCompileCache)
 * and skip most of the parsing at the next start. Under systemd the cache goes to the state directory
 * (the only writable place under the shipped unit); NODE_COMPILE_CACHE, read by node itself, wins.
 * A no-op on older runtimes and elsewhere. Called before any command module is imported.
 */
function enableCompileCache(): void {
  const enable = (module as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache;
  const state = process.env.STATE_DIRECTORY?.split(':')[0];
  if (typeof enable !== 'function' || process.env.NODE_COMPILE_CACHE || !state) return;
  try {
    enable(join(state, 'compile-cache'));
  } catch {
    // a cache is an optimisation: without it the agent starts as it always did
  }
}

export interface Command {
  name: string;
  summary: string;
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
  /**
   * Everything the command does is done when run() resolves (its output written): the process then
   * exits at once, without node's orderly teardown of its heap and threads (about 30 ms of a decode).
   */
  exitsWhenDone?: boolean;
}

export const commands: Command[] = [
  { name: 'decode', summary: 'decode a candump log with DBC files into JSON Lines', run: async (argv) => (await import('./decode.js')).runDecode(argv), exitsWhenDone: true },
  { name: 'run', summary: 'run the agent with a configuration file', run: async (argv) => (await import('./run.js')).runAgentCli(argv) },
  { name: 'demo', summary: 'the whole system on this machine: broker, agent on a demo drive, backend, a remote command', run: async (argv) => (await import('./demo.js')).runDemoCli(argv) },
  { name: 'backend', summary: 'the backend: ingest into SQLite/PostgreSQL, the Web API, remote actions, monitors (receive: the JSON-lines receiver)', run: async (argv) => (await import('./backend.js')).runBackendCli(argv) },
  { name: 'keys', summary: 'generate an Ed25519 key pair for signing remote commands (keys generate)', run: async (argv) => (await import('./keys.js')).runKeys(argv) },
  { name: 'command', summary: 'sign and send a remote command to a vehicle, print its responses (command send)', run: async (argv) => (await import('./command-send.js')).runCommandSend(argv) },
];

/** Why a command's modules may be missing: the head-unit bundle (cross-build/) leaves the backend server out. */
const NOT_INSTALLED =
  'not part of this installation: the head-unit bundle carries the agent (run, decode, keys, command send, backend receive); ' +
  'the backend server and the demo need the full install (npm install)';

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const list = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return `usage: roadlink <command> [options]\n\ncommands:\n${list}\n\n  roadlink <command> --help   options of a command\n  roadlink --version          print the version\n`;
}

/** Dispatches argv (without node and script) to a command; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    // Loaded here only: every module main.ts imports statically is start-up time for every command.
    const { packageVersion } = await import('../../agent/runtime/version.js');
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`roadlink: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    // Commands report expected problems themselves; anything else gets one line (stack with ROADLINK_DEBUG=1).
    process.stderr.write(`roadlink ${name}: ${process.env.ROADLINK_DEBUG ? (e as Error).stack : (e as Error).message}\n`);
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') process.stderr.write(`roadlink ${name}: ${NOT_INSTALLED}\n`);
    return 1;
  }
}

/** Run as the `roadlink` bin (argv[1] may be the npm bin symlink), not imported by a test or another module. */
function invokedDirectly(): boolean {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  enableCompileCache();
  const argv = process.argv.slice(2);
  const exitCode = await main(argv);
  if (commands.find((c) => c.name === argv[0])?.exitsWhenDone) process.exit(exitCode);
  process.exitCode = exitCode;
}
