// Runs on the bundled node (under qemu) from inside the bundle's app/ dir: the project's SQLite
// store (agent/store, on the bundled better-sqlite3) writes samples and state to a file, is closed
// and reopened, gives the samples back in sequence, and forgets them once acknowledged.
// Prints the peak RSS of the emulated process.
// usage: store-check.mjs <db-path>
import { readFileSync } from 'node:fs';

const { Store } = await import('../dist/agent/store/store.js');
const { Priority } = await import('../dist/wire/priority.js');
const path = process.argv[2];
if (!path) throw new Error('usage: store-check.mjs <db-path>');
const fail = (message) => {
  console.error(`store-check: ${message}`);
  process.exit(1);
};

const SAMPLES = 5000;
const options = { path, signalGrid: () => ({ scale: 0.25, offset: 0 }), commitIntervalMs: 60_000 };
const t0 = 1_700_000_000_000_000;

let store = Store.open(options);
for (let i = 0; i < SAMPLES; i++) store.appendSample('can', Priority.normal, i % 10, t0 + i * 1000, (i % 400) * 0.25);
store.putState('smoke', new TextEncoder().encode('kept across reopen'));
store.flush();
store.close();

if (readFileSync(path).subarray(0, 16).toString('latin1') !== 'SQLite format 3\0') fail(`${path} is not an SQLite file`);

store = Store.open(options); // quick_check on open
const stats = store.stats();
if (stats.storedSamples !== SAMPLES) fail(`reopened store holds ${stats.storedSamples} samples, expected ${SAMPLES}`);
const state = new TextDecoder().decode(store.getState('smoke') ?? new Uint8Array());
if (state !== 'kept across reopen') fail(`state after reopen is '${state}'`);
const rows = store.nextBatch(1000);
let total = 0;
for (let r = 0; r < rows.length; r++) {
  const row = rows[r];
  if (row.stream !== 'can' || row.kind !== 'samples') fail(`row ${row.rowId}: stream ${row.stream}, kind ${row.kind}`);
  if (r > 0 && row.firstSeq !== rows[r - 1].firstSeq + rows[r - 1].count) fail(`row ${row.rowId}: seq gap before ${row.firstSeq}`);
  if (row.bytes.length === 0) fail(`row ${row.rowId}: empty blob`);
  total += row.count;
}
if (total !== SAMPLES) fail(`nextBatch gave ${total} samples in ${rows.length} rows, expected ${SAMPLES}`);
store.ack(rows.map((row) => row.rowId));
store.flush();
store.close();

store = Store.open(options);
const after = store.stats().storedSamples;
store.close();
if (after !== 0) fail(`after ack and reopen ${after} samples remain, expected 0`);

const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
console.log(`  ${SAMPLES} samples in ${rows.length} rows written, reopened, read in seq order, acked and gone; file ${path}`);
console.log(`  peak RSS under emulation (qemu + node): ${hwm ? Math.round(Number(hwm[1]) / 1024) : '?'} MB`);
