// `roadlink run` against a real mosquitto: the demo vehicle's drive replayed as fast as possible,
// every stored row uploaded, acknowledged and deleted, the backend receiver seeing all of it.
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgentCli } from '../../apps/cli/run.js';
import { Receiver } from '../../backend/receiver.js';
import { demoFolder } from '../helpers/demo-config.js';
import { Mosquitto } from '../helpers/mosquitto.js';

function capture(): Writable & { text: string } {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      sink.text += String(chunk);
      done();
    },
  }) as Writable & { text: string };
  sink.text = '';
  return sink;
}

describe('roadlink run', () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await Mosquitto.start();
  });
  afterAll(async () => broker?.stop());

  it('replays a drive to the end, uploads everything and leaves an empty store', async () => {
    const demo = demoFolder((yaml) => yaml.replace('speed: 30 ', 'speed: 0  '));
    const lines: Record<string, unknown>[] = [];
    const receiver = new Receiver({ broker: { url: broker.url }, shared: false, writeLine: (l) => lines.push(JSON.parse(l)), log: () => {} });
    await receiver.start();
    const io = { stdout: capture(), stderr: capture() };
    const code = await runAgentCli(['--config', demo.config, '--broker', broker.url, '--exit-at-end', '--stats-interval', '0'], io);
    expect(code, io.stderr.text).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const summary = await receiver.stop();

    const data = lines.filter((l) => l.type === 'data');
    const samples = data.reduce((n, l) => n + Number(l.count), 0);
    expect(samples).toBeGreaterThan(2000);
    const events = lines.filter((l) => l.type === 'event');
    expect(events.some((e) => 'trip' in e)).toBe(true);
    expect(events.filter((e) => 'collision' in e)).toHaveLength(2);
    for (const stream of Object.values(summary.vehicles['VF1RDLNK000000001'])) expect(stream.holes).toEqual([]);

    // Rows are deleted only after their PUBACK: the store is empty once the run ended cleanly.
    const db = new Database(`${demo.dir}/roadlink-demo.db`, { readonly: true });
    expect(db.prepare('SELECT count(*) AS n FROM rows').get()).toEqual({ n: 0 });
    db.close();
  }, 60_000);

  it('names the file, line and key of a configuration problem, and exits 1', async () => {
    const demo = demoFolder((yaml) => yaml.replace('period: 10s', 'period: 10 sec'));
    const io = { stdout: capture(), stderr: capture() };
    expect(await runAgentCli(['--config', demo.config], io)).toBe(1);
    expect(io.stderr.text).toMatch(/demo\.yaml:\d+: rules\[1\]\.period: must be a duration/);
  });

  it('exits 2 with a pointer to --help without --config', async () => {
    const io = { stdout: capture(), stderr: capture() };
    expect(await runAgentCli([], io)).toBe(2);
    expect(io.stderr.text).toMatch(/--config FILE is required\n\(roadlink run --help for usage\)/);
  });
});
