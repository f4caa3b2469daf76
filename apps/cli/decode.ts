/**
 * `roadlink decode`: candump log + DBC files -> JSON Lines on stdout (the corpus reference format),
 * one line per frame whose ID a DBC defines. Unknown IDs, short payloads and bad log lines are
 * counted and summarised on stderr at the end.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { FrameFlag, createFrameBatch } from '../../drivers/can/frame-batch.js';
import { CandumpParser } from '../../drivers/replay/candump-parser.js';
import { DbcError, formatWarning, loadDbcFile, type DbcDatabase } from '../../agent/decode/dbc-loader.js';
import { defaultCacheDir } from '../../agent/decode/dbc-cache.js';
import { Decoder, type DecoderBinding } from '../../agent/decode/decoder.js';
import { createSampleBatch } from '../../agent/decode/sample-batch.js';
import { parseCommandLine, UsageError, type TextOut } from './cli-options.js';
import { AsciiBuffer } from './ascii-buffer.js';
import { ByteSink, stderrText } from './byte-sink.js';
import { DecodeJsonlWriter } from './decode-jsonl.js';

export const usage = `usage: roadlink decode --dbc FILE [--dbc FILE ...] [--bus NAME=FILE ...] [LOG | -]

Decodes a candump log (candump -L or candump ascii output; '-' or no LOG = stdin) with DBC files and
writes JSON Lines to stdout, one line per frame whose ID a DBC defines:
  {"t":"1436509052.249713","bus":"can0","id":"356","ext":false,"msg":"NAME","sig":{...},"lbl":{...},"short":7}
(lbl only where a VAL_ label applies, short = payload length when shorter than the DBC says).

options:
  --dbc FILE        DBC for every bus (repeatable; the first DBC defining an ID wins)
  --bus NAME=FILE   DBC for bus NAME only (repeatable; takes precedence over --dbc on that bus)
  --warnings        list every DBC warning (default: the first 10 per file)
  --cache-dir DIR   keep parsed DBC files here and reuse them while the file is unchanged
                    (default: $ROADLINK_CACHE_DIR, else $CACHE_DIRECTORY, $XDG_CACHE_HOME/roadlink
                    or ~/.cache/roadlink)
  --no-cache        parse every DBC file, write no cache
  -h, --help        this help
`;

/** Where the command writes; tests pass their own streams. */
export interface DecodeIo {
  stdin: Readable;
  stdout: Writable;
  stderr: TextOut;
}

/** The process's streams, each made only when used; stderr without process.stderr (byte-sink.ts). */
const processIo: DecodeIo = {
  get stdin() {
    return process.stdin;
  },
  get stdout() {
    return process.stdout;
  },
  stderr: stderrText,
};

/** Input that cannot be used: missing or unreadable log (exit 1; unusable DBC files throw DbcError). */
class InputError extends Error {}

interface Options {
  dbc: string[];
  bus: { bus: string; file: string }[];
  log: string;
  allWarnings: boolean;
  /** Where parsed DBC files are cached; undefined = no cache. */
  cacheDir: string | undefined;
}

function parseOptions(argv: string[]): Options | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dbc: { type: 'string', multiple: true },
      bus: { type: 'string', multiple: true },
      warnings: { type: 'boolean' },
      'cache-dir': { type: 'string' },
      'no-cache': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const bus = (values.bus ?? []).map((spec) => {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`--bus wants NAME=FILE, got '${spec}'`);
    return { bus: spec.slice(0, eq), file: spec.slice(eq + 1) };
  });
  const dbc = values.dbc ?? [];
  if (dbc.length === 0 && bus.length === 0) throw new UsageError('no DBC given (--dbc FILE or --bus NAME=FILE)');
  if (positionals.length > 1) throw new UsageError(`one log at most, got ${positionals.length}: ${positionals.join(' ')}`);
  const cacheDir = values['no-cache'] ? undefined : (values['cache-dir'] ?? defaultCacheDir());
  return { dbc, bus, log: positionals[0] ?? '-', allWarnings: values.warnings ?? false, cacheDir };
}

/** Loads each DBC once (a file may be bound to several buses); prints its warnings. */
function loadBindings(options: Options, stderr: TextOut): DecoderBinding[] {
  const loaded = new Map<string, DbcDatabase>();
  const load = (file: string): DbcDatabase => {
    let db = loaded.get(file);
    if (!db) {
      const result = loadDbcFile(file, { cacheDir: options.cacheDir });
      db = result.db;
      loaded.set(file, db);
      const shown = options.allWarnings ? result.warnings : result.warnings.slice(0, 10);
      for (const w of shown) stderr.write(`warning: ${formatWarning(w)}\n`);
      if (shown.length < result.warnings.length) {
        stderr.write(`warning: ${file}: ${result.warnings.length - shown.length} more warnings (--warnings lists them all)\n`);
      }
    }
    return db;
  };
  const bindings: DecoderBinding[] = options.bus.map(({ bus, file }) => ({ bus, databases: [load(file)] }));
  if (options.dbc.length > 0) bindings.push({ bus: '*', databases: options.dbc.map(load) });
  return bindings;
}

/**
 * The log's bytes in chunks (a file: read into one reused buffer, which the parser does not keep).
 * A file's first read is 64 KiB and each next one twice as large, up to 1 MiB: the first records come
 * out sooner, and the parser meets a line cut between reads while its code is still warming up.
 */
function openLog(log: string, stdin: Readable): AsyncIterable<Uint8Array> {
  if (log === '-') return stdin;
  let fd: number;
  try {
    fd = openSync(log, 'r');
    if (fstatSync(fd).isDirectory()) {
      closeSync(fd);
      throw new InputError(`cannot read log ${log}: is a directory`);
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read log ${log}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  return readChunks(fd);
}

async function* readChunks(fd: number): AsyncGenerator<Uint8Array> {
  const buffer = Buffer.allocUnsafe(1 << 20);
  let readBytes = 1 << 16;
  try {
    for (;; readBytes = Math.min(buffer.length, 2 * readBytes)) {
      const n = readSync(fd, buffer, 0, readBytes, null);
      if (n === 0) return;
      yield buffer.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

/** Runs `roadlink decode`; resolves to the process exit code. */
export async function runDecode(argv: string[], io: DecodeIo = processIo): Promise<number> {
  const { stdout, stderr } = io;
  const parsed = parseCommandLine('decode', usage, () => parseOptions(argv), io);
  if ('exitCode' in parsed) return parsed.exitCode;
  const { options } = parsed;
  let bindings: DecoderBinding[];
  let input: AsyncIterable<Uint8Array>;
  try {
    bindings = loadBindings(options, stderr);
    input = openLog(options.log, io.stdin);
  } catch (e) {
    if (e instanceof DbcError || e instanceof InputError) {
      stderr.write(`roadlink decode: ${e.message}\n`);
      return 1;
    }
    throw e;
  }

  const decoder = new Decoder(bindings, { compile: 'first-frame', repeats: 'mark' });
  // 1024-frame batches: the samples the writer reads back (about 250 KiB) are still in the CPU cache.
  const samples = createSampleBatch(16384);
  const unknownIds = new Map<string, number>();
  const sink = new ByteSink(stdout);
  const writer = new DecodeJsonlWriter(decoder, new AsciiBuffer((bytes) => sink.write(bytes)));
  const parser = new CandumpParser(createFrameBatch(1024), (frames) => {
    samples.count = 0;
    decoder.decode(frames, samples);
    writer.write(frames, samples, parser.idDigits);
    for (let i = 0; i < frames.count; i++) {
      // Remote and error frames carry no payload: the decoder skips them, they are not unknown IDs.
      if (decoder.frameMessage[i] >= 0 || (frames.flags[i] & (FrameFlag.RTR | FrameFlag.ERROR)) !== 0) continue;
      const key = `${frames.busNames[frames.bus[i]]} ${parser.idDigits[i] === 8 ? 'x' : ''}${frames.id[i]}`;
      unknownIds.set(key, (unknownIds.get(key) ?? 0) + 1);
    }
  });

  try {
    for await (const chunk of input) {
      parser.push(chunk);
      await sink.drained();
      if (sink.closed) break;
    }
  } catch (e) {
    stderr.write(`roadlink decode: cannot read log ${options.log}: ${(e as Error).message}\n`);
    return 1;
  }
  if (!sink.closed) {
    parser.end();
    writer.flush();
    await sink.drained();
  }

  stderr.write(summary(decoder, parser, unknownIds));
  return 0;
}

function summary(decoder: Decoder, parser: CandumpParser, unknownIds: Map<string, number>): string {
  const s = decoder.stats;
  const p = parser.stats;
  const lines = [
    `decoded ${s.decoded} of ${s.frames} frames (${s.short} with a payload shorter than the DBC length), ${s.samples} signal values`,
  ];
  if (s.unknownId > 0) {
    const top = [...unknownIds.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
    const ids = top.map(([key, n]) => {
      const [bus, id] = key.split(' ');
      const ext = id.startsWith('x');
      const value = Number(ext ? id.slice(1) : id);
      return `${bus} 0x${value.toString(16).toUpperCase().padStart(ext ? 8 : 3, '0')} (${n})`;
    });
    const more = unknownIds.size > top.length ? `, ... ${unknownIds.size - top.length} more` : '';
    lines.push(`unknown IDs: ${s.unknownId} frames, ${unknownIds.size} distinct: ${ids.join(', ')}${more}`);
  }
  if (s.skipped > 0) lines.push(`remote/error frames skipped: ${s.skipped}`);
  if (p.badLines > 0) {
    lines.push(`bad lines: ${p.badLines}`);
    for (const b of p.badLineSamples) lines.push(`  line ${b.line}: ${b.reason}: ${b.text}`);
    if (p.badLineSamples.length < p.badLines) lines.push(`  ... ${p.badLines - p.badLineSamples.length} more`);
  }
  return `${lines.join('\n')}\n`;
}
