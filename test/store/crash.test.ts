/**
 * Crash safety: a real child process ingests and commits, and is killed with SIGKILL at random
 * moments, many times over the same file. After every kill, everything the child reported committed
 * is in the file (or was reported acked), the file passes integrity_check, and sequence numbers go on
 * increasing.
 *
 * The child's reports are the ledger these checks trust, so they must all reach the parent: the
 * child writes them with blocking writes, before the commit they announce (see crash-child.mjs), and
 * the parent reads them until the pipe closes, not just until the process exits.
 */
import Database from 'better-sqlite3';
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeSampleChunk } from '../../wire/sample-chunk.js';
import { Store } from '../../agent/store/store.js';
import { readRows, tempDir, testGrid } from './fixtures.js';

const here = import.meta.dirname;

beforeAll(() => {
  // The child imports the compiled store; build just agent/store (fast, independent of other folders).
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json')], { stdio: 'pipe' });
});

interface ChildRun {
  lastData: number;
  lastEvents: number;
  acked: Set<number>;
  commits: number;
}

interface KillPlan {
  /** The child is killed this long after its first report (after the stall, if any). */
  killAfterMs: number;
  /**
   * Right after the first report the parent gets no CPU for this long (its thread sleeps), as on a
   * loaded machine: the child's reports pile up in the pipe until it is full.
   */
  stallMs?: number;
}

/** Runs the child on `path`, kills it with SIGKILL as planned, and returns what it reported. */
function runAndKill(path: string, seed: number, plan: KillPlan): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, 'crash-child.mjs'), path, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (timer) return;
      if (plan.stallMs) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, plan.stallMs);
      timer = setTimeout(() => child.kill('SIGKILL'), plan.killAfterMs);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    // 'close', not 'exit': at 'exit' the child's last reports may still be unread in the pipe.
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`child exited with ${code}: ${err}`));
      const run: ChildRun = { lastData: 0, lastEvents: 0, acked: new Set(), commits: 0 };
      // Only complete lines count: a line cut by the kill proves nothing.
      for (const line of out.slice(0, out.lastIndexOf('\n') + 1).split('\n')) {
        const [word, ...nums] = line.split(' ');
        if (word === 'committed') {
          run.lastData = Number(nums[0]);
          run.lastEvents = Number(nums[1]);
          run.commits++;
        } else if (word === 'acked') nums.forEach((s) => run.acked.add(Number(s)));
      }
      resolve(run);
    });
  });
}

/** What the parent knows about one store file across kills. */
interface Ledger {
  /** Event seqs the child ever reported acked (their rows may be deleted). */
  acked: Set<number>;
  /** Highest data seq found in the file after the previous kill. */
  lastData: number;
  commits: number;
}

/** The checks after each kill: an intact file holding everything reported committed and not acked. */
function checkAfterKill(path: string, run: ChildRun, ledger: Ledger, round: number): void {
  run.acked.forEach((s) => ledger.acked.add(s));
  ledger.commits += run.commits;

  const db = new Database(path);
  expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  db.close();
  const rows = readRows(path);

  // Samples: chunks cover 1..N without gap or overlap, N >= what the child reported committed.
  const data = rows.filter((r) => r.stream === 'data');
  let expectSeq = 1;
  for (const r of data) {
    expect(r.first_seq).toBe(expectSeq);
    const { header, columns } = decodeSampleChunk(r.bytes);
    expect([header.firstSeq, columns.sampleCount]).toEqual([r.first_seq, r.count]);
    expectSeq += r.count;
  }
  const lastData = expectSeq - 1;
  expect(lastData).toBeGreaterThanOrEqual(run.lastData);
  expect(lastData).toBeGreaterThanOrEqual(ledger.lastData);
  ledger.lastData = lastData;

  // Events: every committed seq is stored, unless the child had acked it.
  const events = new Set(rows.filter((r) => r.stream === 'events').map((r) => r.first_seq));
  for (let s = 1; s <= run.lastEvents; s++) {
    if (!events.has(s) && !ledger.acked.has(s)) expect.fail(`event seq ${s} lost in round ${round}`);
  }

  // The store opens (quick_check) and continues after the highest stored seq.
  const store = Store.open({ path, signalGrid: testGrid });
  expect(store.nextSeq('data')).toBe(lastData + 1);
  expect(store.nextSeq('events')).toBeGreaterThan(Math.max(run.lastEvents, ...events));
  store.close();
}

describe('store crash safety (SIGKILL during ingest)', () => {
  it('keeps every committed sequence through 20 kills, with an intact file and increasing seqs', async () => {
    const path = join(tempDir(), 'crash.db');
    const ledger: Ledger = { acked: new Set(), lastData: 0, commits: 0 };
    for (let round = 0; round < 20; round++) {
      const run = await runAndKill(path, round + 1, { killAfterMs: 20 + ((round * 37) % 180) });
      checkAfterKill(path, run, ledger, round);
    }
    expect(ledger.commits).toBeGreaterThan(40); // the kills did land in the middle of ingest, after real work
  }, 180_000);

  it('loses no report of the child while the parent gets no CPU for a while (a loaded machine)', async () => {
    // A stall of 600 ms is far longer than the child needs to fill the pipe (a few hundred lines).
    // Reports written after that must wait for the parent, not vanish with the killed child: an
    // "acked" report lost that way made acked (deleted) events look lost.
    const path = join(tempDir(), 'crash.db');
    const ledger: Ledger = { acked: new Set(), lastData: 0, commits: 0 };
    for (let round = 0; round < 3; round++) {
      const run = await runAndKill(path, round + 101, { stallMs: 600, killAfterMs: 50 + 50 * round });
      checkAfterKill(path, run, ledger, round);
    }
    expect(ledger.acked.size).toBeGreaterThan(0); // acked rows were deleted: the check above could fail
  }, 60_000);
});
