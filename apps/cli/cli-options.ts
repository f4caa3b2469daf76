/**
 * What every subcommand does with its options: parse them (node:util parseArgs inside the command's
 * own parser), print the usage for --help (exit 0), and print a bad option with a pointer to --help
 * (exit 2). A command's parser throws UsageError for a problem it finds itself.
 */
import type { Writable } from 'node:stream';

export class UsageError extends Error {}

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
}

/** Where a command writes text: a stream, or byte-sink.ts's stderrText. */
export interface TextOut {
  write(text: string): unknown;
}

/** The parsed options, or the exit code when the command is done (help shown, or a usage error). */
export function parseCommandLine<T>(command: string, usage: string, parse: () => T | 'help', io: { stdout: TextOut; stderr: TextOut }): { options: T } | { exitCode: number } {
  try {
    const parsed = parse();
    if (parsed === 'help') {
      io.stdout.write(usage);
      return { exitCode: 0 };
    }
    return { options: parsed };
  } catch (error) {
    if (error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`roadlink ${command}: ${(error as Error).message}\n(roadlink ${command} --help for usage)\n`);
      return { exitCode: 2 };
    }
    throw error;
  }
}
