/**
 * Crash safety: a real child process ingests and commits, and is killed with SIGKILL at random
 * moments, 20 times over the same file. After every kill, everything the child reported committed
 * is in the file, the file passes integrity_check, and sequence numbers go on increasing.
 */
import Database from 'better-sqlite3';
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeSampleChunk } from '../../agent/store/sample-chunk.js';
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

/** Runs the child until `delayMs` after its first commit, then SIGKILLs it. */
function runAndKill(path: string, seed: number, delayMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, 'crash-child.mjs'), path, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      timer ??= setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
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

describe('store crash safety (SIGKILL during ingest)', () => {
  it('keeps every committed sequence through 20 kills, with an intact file and increasing seqs', async () => {
    const path = join(tempDir(), 'crash.db');
    const acked = new Set<number>();
    let previousData = 0;
    let commits = 0;
    for (let round = 0; round < 20; round++) {
      const run = await runAndKill(path, round + 1, 20 + ((round * 37) % 180));
      run.acked.forEach((s) => acked.add(s));
      commits += run.commits;

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
      expect(lastData).toBeGreaterThanOrEqual(previousData);
      previousData = lastData;

      // Events: every committed seq is stored, unless the child had acked it.
      const events = new Set(rows.filter((r) => r.stream === 'events').map((r) => r.first_seq));
      for (let s = 1; s <= run.lastEvents; s++) {
        if (!events.has(s) && !acked.has(s)) expect.fail(`event seq ${s} lost in round ${round}`);
      }

      // The store opens (quick_check) and continues after the highest stored seq.
      const store = Store.open({ path, signalGrid: testGrid });
      expect(store.nextSeq('data')).toBe(lastData + 1);
      expect(store.nextSeq('events')).toBeGreaterThan(Math.max(run.lastEvents, ...events));
      store.close();
    }
    expect(commits).toBeGreaterThan(40); // the kills did land in the middle of ingest, after real work
  }, 180_000);
});
