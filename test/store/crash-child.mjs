// Child process of crash.test.ts: ingests into a store until it is killed with SIGKILL.
// After every commit it prints what is committed, so the parent knows what must survive:
//   "committed <last data seq> <last events seq>"  and, before acking event rows, "acked <seq>...".
// Plain .mjs importing the compiled store (dist/), because a child has no vitest transform.
import { writeSync } from 'node:fs';
import { Store } from '../../dist/agent/store/store.js';

/**
 * Writes a report line to stdout and returns only once it is in the pipe, so that it reaches the
 * parent even if this process is killed right after. Not process.stdout.write: once the pipe is full
 * (the parent is slow to read on a loaded machine) it queues lines in this process's memory, to be
 * sent by the event loop, which this synchronous loop never reaches: the SIGKILL then loses an
 * "acked" line whose rows the next commit deleted, and the parent sees committed events missing.
 * fd 1 is a blocking pipe here (process.stdout, which would make it non-blocking, is never touched);
 * EAGAIN is retried anyway in case it is not.
 */
function report(line) {
  const bytes = Buffer.from(`${line}\n`);
  for (let done = 0; done < bytes.length; ) {
    try {
      done += writeSync(1, bytes, done);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
    }
  }
}

const [path, seedArg] = process.argv.slice(2);
let seed = Number(seedArg) | 0;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) | 0) >>> 0) / 4294967296;

const store = Store.open({
  path,
  signalGrid: (id) => ({ scale: 0.01 * (1 + (id % 3)), offset: id % 2 ? -40 : 0 }),
  commitIntervalMs: 3_600_000,
  commitMaxSamples: 1e9,
  onError: (err) => {
    console.error(err.message);
    process.exit(3);
  },
});
let t = Date.now() * 1000;
for (let round = 0; ; round++) {
  const n = 200 + Math.floor(rnd() * 2000);
  for (let i = 0; i < n; i++, t += 1000) store.appendSample('data', 2, i % 10, t, Math.sin(t / 1e6) * 100);
  if (round % 3 === 0) store.appendRecord('events', 3, t, new Uint8Array(50 + Math.floor(rnd() * 500)).fill(round & 255));
  if (round % 5 === 4) {
    const sent = store.nextBatch(4).filter((r) => r.stream === 'events');
    if (sent.length > 0) {
      report(`acked ${sent.map((r) => r.firstSeq).join(' ')}`); // before the ack: the commit below deletes them
      store.ack(sent.map((r) => r.rowId));
    }
    store.releaseInFlight();
  }
  store.flush();
  report(`committed ${store.nextSeq('data') - 1} ${store.nextSeq('events') - 1}`);
}
