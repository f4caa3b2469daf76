/**
 * An ingest worker as a process: `node dist/backend/ingest/ingest-main.js --broker URL --db LOCATION
 * --client-id ID [--group NAME] [--connections N]` (LOCATION: postgres://... or a SQLite file).
 * Logs on stderr; SIGTERM/SIGINT stop it cleanly and print its statistics as JSON on stdout.
 */
import { parseArgs } from 'node:util';
import { openStore } from '../db/open-store.js';
import { IngestWorker } from './ingest-worker.js';
import { stderrLogger } from '../../wire/log.js';

const { values } = parseArgs({
  options: {
    broker: { type: 'string' },
    db: { type: 'string' },
    'client-id': { type: 'string' },
    group: { type: 'string' },
    connections: { type: 'string' },
  },
});
if (!values.broker || !values.db || !values['client-id']) {
  process.stderr.write('usage: ingest-main --broker URL --db LOCATION --client-id ID [--group NAME] [--connections N]\n');
  process.exit(2);
}
const store = await openStore(values.db);
const worker = new IngestWorker({
  broker: { url: values.broker },
  store,
  clientId: values['client-id'],
  group: values.group,
  connections: values.connections ? Number(values.connections) : undefined,
  log: stderrLogger(),
});
await worker.start();
process.stderr.write('ingest: ready\n');
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  const stats = await worker.stop();
  await store.close();
  process.stdout.write(`${JSON.stringify(stats)}\n`);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
