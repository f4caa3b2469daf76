/**
 * `roadlink decode` as a whole process, against cantools doing the same job: the Kona log (shared
 * corpus) repeated 12 times (206 k frames) decoded with hyundai_can.dbc to a JSON Lines file. Times
 * are wall clock from spawn to exit (start-up, DBC loading, parsing, decoding, writing), median of
 * several runs; the tools run alternately so that both meet the same machine load. roadlink runs as
 * the `roadlink` command (bin/roadlink, the launcher, with this node first on PATH) twice per round:
 * with its DBC cache (filled by a first run, as for a user who decodes with the same DBC again) and
 * with --no-cache (the DBC parsed, as on a first use); and once as `node dist/apps/cli/main.js`, with
 * node's default flags, to show what the launcher's flags are worth.
 *
 * cantools runs the corpus's own reference script (reference/tools/refdecode.py, the one that made
 * the reference decodes) with the cantools-loadable copy of the DBC, when `python3 -c 'import
 * cantools'` works (PYTHONPATH is passed on); its output must be byte-identical to roadlink's.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { corpusFile } from '../helpers/corpus.js';

const COPIES = 12;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
/** The issue's figure for cantools 42 on the development machine, shown when cantools cannot run here. */
const ISSUE_CANTOOLS_SECONDS = '2.8-2.9';

/** Runs a command with stdout to `outFile`; resolves to its wall time in ms (rejects on a non-zero exit). */
function timed(command: string, args: string[], outFile: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve, reject) => {
    const fd = openSync(outFile, 'w');
    const start = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', fd, 'pipe'], env });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      closeSync(fd);
      if (code === 0) resolve(ms);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr.slice(-2000)}`));
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const stats = (xs: number[]) => `median ${median(xs).toFixed(0)} ms, min ${Math.min(...xs).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;

function cantoolsProblem(): string | undefined {
  const probe = spawnSync('python3', ['-c', 'import cantools'], { encoding: 'utf8' });
  if (probe.error) return `python3 not found (${probe.error.message})`;
  if (probe.status !== 0) return probe.stderr.trim().split('\n').pop();
  return undefined;
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'roadlink-bench-decode-'));
  try {
    const log = join(dir, `kona-x${COPIES}.log`);
    const once = readFileSync(corpusFile('logs/eldominio/kona/turnonlog.log'));
    writeFileSync(log, Buffer.concat(Array.from({ length: COPIES }, () => once)));
    const lines = once.reduce((n, c) => (c === 10 ? n + 1 : n), 0) * COPIES;

    const launcher = join(import.meta.dirname, '..', '..', '..', 'bin', 'roadlink');
    const main = join(import.meta.dirname, '..', '..', 'apps', 'cli', 'main.js');
    const decodeArgs = ['decode', '--dbc', corpusFile('dbc/opendbc/hyundai_can.dbc'), log];
    const roadlinkOut = join(dir, 'roadlink.jsonl');
    const cantoolsArgs = [
      corpusFile('reference/tools/refdecode.py'),
      corpusFile('dbc/sanitized-for-cantools/hyundai_can_generated.cantools.dbc'),
      log,
      join(dir, 'cantools.jsonl'),
    ];
    const problem = cantoolsProblem();

    console.log(`job: Kona log x${COPIES} = ${lines.toLocaleString('en-US')} lines (${(statSync(log).size / 1048576).toFixed(1)} MiB) -> JSON Lines file; ${RUNS} runs each`);
    console.log(`command: bin/roadlink ${decodeArgs.map((a) => a.replace(dir, '$TMP')).join(' ')} > $TMP/roadlink.jsonl`);
    if (!problem) console.log(`cantools: python3 ${cantoolsArgs.map((a) => a.replace(dir, '$TMP')).join(' ')}`);

    const nodeStart: number[] = [];
    const roadlinkMs: number[] = [];
    const uncachedMs: number[] = [];
    const plainNodeMs: number[] = [];
    const cantoolsMs: number[] = [];
    // The DBC cache of the runs: private to the bench, filled by the first run. The launcher runs
    // the `node` it finds on PATH: this one.
    const env: NodeJS.ProcessEnv = { ...process.env, ROADLINK_CACHE_DIR: join(dir, 'dbc-cache'), PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH}` };
    delete env.ROADLINK_NODE_FLAGS;
    await timed(launcher, decodeArgs, roadlinkOut, env); // also warms the page cache
    const uncachedOut = join(dir, 'uncached.jsonl');
    const plainNodeOut = join(dir, 'plain-node.jsonl');
    for (let r = 0; r < RUNS; r++) {
      nodeStart.push(await timed(process.execPath, ['-e', ''], join(dir, 'empty.txt')));
      roadlinkMs.push(await timed(launcher, decodeArgs, roadlinkOut, env));
      uncachedMs.push(await timed(launcher, [...decodeArgs, '--no-cache'], uncachedOut, env));
      plainNodeMs.push(await timed(process.execPath, [main, ...decodeArgs], plainNodeOut, env));
      if (!problem) cantoolsMs.push(await timed('python3', cantoolsArgs.slice(), join(dir, 'cantools.stdout')));
    }
    const output = readFileSync(roadlinkOut);
    if (!output.equals(readFileSync(uncachedOut))) throw new Error('roadlink decode wrote otherwise with and without its DBC cache');
    if (!output.equals(readFileSync(plainNodeOut))) throw new Error('roadlink decode wrote otherwise through the launcher and run by node directly');
    console.log(`roadlink decode (DBC cached by an earlier run): ${stats(roadlinkMs)}; ${(output.length / 1048576).toFixed(1)} MiB written`);
    console.log(`roadlink decode --no-cache (DBC parsed): ${stats(uncachedMs)}`);
    console.log(`node dist/apps/cli/main.js decode (node's default flags, DBC cached): ${stats(plainNodeMs)}`);
    console.log(`node -e '' (start-up alone, for reference): ${stats(nodeStart)}`);
    if (problem) {
      console.log(`cantools: not measured: python3 cannot import cantools (${problem}); the issue's figure for cantools 42 is ${ISSUE_CANTOOLS_SECONDS} s (not re-measured here)`);
      return;
    }
    const same = output.equals(readFileSync(join(dir, 'cantools.jsonl')));
    console.log(`cantools: ${stats(cantoolsMs)}; output ${same ? 'byte-identical to roadlink\'s' : 'DIFFERS from roadlink\'s'}`);
    console.log(`ratio (median cantools / median roadlink): ${(median(cantoolsMs) / median(roadlinkMs)).toFixed(1)}x with the DBC cached, ${(median(cantoolsMs) / median(uncachedMs)).toFixed(1)}x parsing the DBC (target 10x); ${(median(cantoolsMs) / median(plainNodeMs)).toFixed(1)}x run by node directly`);
    if (!same) throw new Error('roadlink and cantools outputs differ');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
