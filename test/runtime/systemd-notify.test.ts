// `roadlink run` under a (simulated) systemd: a real AF_UNIX datagram socket as $NOTIFY_SOCKET with
// $WATCHDOG_USEC, the real CLI compiled and spawned on the demo drive, uploading to a real mosquitto.
// The agent is made unhealthy for real: another process holds the SQLite write lock on its store, so
// its commits wait on the lock (blocking the event loop for SQLite's busy timeout) and then fail.
import Database from 'better-sqlite3';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemdNotifier, watchdogTimeoutMs } from '../../agent/runtime/sd-notify.js';
import { demoFolder } from '../helpers/demo-config.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { NotifyReceiver } from '../helpers/notify-receiver.js';

const repo = join(import.meta.dirname, '..', '..');
const out = join(repo, '.cache', `notify-test-${process.pid}`);
// Pings every 2.5 s; a stall over 1.25 s (a quarter) withholds one. Wide enough for a loaded 2-core machine.
const WATCHDOG_MS = 5000;

/** The demo at its recorded pace, with a 100 ms rule so that samples keep coming for the store. */
function config(): { dir: string; config: string; db: string } {
  const demo = demoFolder((yaml) =>
    yaml.replace('speed: 30 ', 'speed: 1  ').replace('rules:\n', 'rules:\n  - { name: fast, type: regular, period: 100ms, signals: [Vehicle.Speed, Roadlink.IgnitionState] }\n'),
  );
  return { dir: demo.dir, config: demo.config, db: join(demo.dir, 'roadlink-demo.db') };
}

function runAgent(configFile: string, broker: string, env: Record<string, string>): ChildProcess & { stderrText: string } {
  const child = spawn(process.execPath, [join(out, 'apps', 'cli', 'main.js'), 'run', '--config', configFile, '--broker', broker, '--stats-interval', '0'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  }) as ChildProcess & { stderrText: string };
  child.stderrText = '';
  child.stderr!.on('data', (chunk) => (child.stderrText += String(chunk)));
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Largest gap between consecutive times, including from `from` to the first and from the last to `to`. */
function largestGap(times: number[], from: number, to: number): number {
  const all = [from, ...times, to];
  let gap = 0;
  for (let i = 1; i < all.length; i++) gap = Math.max(gap, all[i] - all[i - 1]);
  return gap;
}

describe('roadlink run as a systemd Type=notify service', () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await Mosquitto.start();
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    await promisify(execFile)(process.execPath, [tsc, '--outDir', out, '--rootDir', repo, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--strict', '--skipLibCheck', '--types', 'node', join(repo, 'apps', 'cli', 'main.ts'), join(repo, 'apps', 'cli', 'run.ts')], { cwd: repo });
  }, 120_000);
  afterAll(async () => {
    await broker?.stop();
    rmSync(out, { recursive: true, force: true });
  });

  it('says READY once the store is open, pings the watchdog while healthy, says STOPPING on SIGTERM', async () => {
    const { config: file, db } = config();
    const receiver = await NotifyReceiver.start();
    const agent = runAgent(file, broker.url, { NOTIFY_SOCKET: receiver.socket, WATCHDOG_USEC: String(WATCHDOG_MS * 1000) });
    try {
      const ready = await receiver.waitFor((m) => m.fields.READY === '1', 20_000);
      expect(existsSync(db)).toBe(true);
      expect(ready.fields.STATUS).toMatch(/^running: drivers 1 reading; \d+ rows stored; uplink (connected|offline)$/);
      await sleep(3 * WATCHDOG_MS);
      const pings = receiver.watchdogTimes(ready.t);
      expect(pings.length).toBeGreaterThanOrEqual(5);
      expect(largestGap(pings, ready.t, Date.now())).toBeLessThan(WATCHDOG_MS);
      agent.kill('SIGTERM');
      expect(await exited(agent), agent.stderrText).toBe(0);
      const stopping = await receiver.waitFor((m) => m.fields.STOPPING === '1', 1000);
      expect(stopping.fields.STATUS).toBe('stopping (SIGTERM)');
      expect(receiver.watchdogTimes(stopping.t + 1)).toEqual([]);
    } finally {
      agent.kill('SIGKILL');
      receiver.stop();
    }
  }, 60_000);

  it('withholds the pings while its store cannot commit (another process holds the write lock), and resumes after', async () => {
    const { config: file, db } = config();
    const receiver = await NotifyReceiver.start();
    const agent = runAgent(file, broker.url, { NOTIFY_SOCKET: receiver.socket, WATCHDOG_USEC: String(WATCHDOG_MS * 1000) });
    let locker: Database.Database | undefined;
    try {
      const ready = await receiver.waitFor((m) => m.fields.READY === '1', 20_000);
      await sleep(2 * WATCHDOG_MS);
      expect(largestGap(receiver.watchdogTimes(ready.t), ready.t, Date.now())).toBeLessThan(WATCHDOG_MS);

      locker = new Database(db);
      locker.prepare('BEGIN IMMEDIATE').run(); // the write lock: the agent's commits wait 5 s for it, then fail
      const lockedAt = Date.now();
      const unhealthy = await receiver.waitFor((m) => /^unhealthy: /.test(m.fields.STATUS ?? ''), 4 * WATCHDOG_MS, receiver.messages.length);
      await sleep(3 * WATCHDOG_MS);
      locker.prepare('COMMIT').run();
      const releasedAt = Date.now();
      const sinceRelease = receiver.messages.length;
      locker.close();
      locker = undefined;
      // systemd would have killed it: no ping for longer than WatchdogSec= while the lock was held.
      expect(largestGap(receiver.watchdogTimes(lockedAt, releasedAt), lockedAt, releasedAt)).toBeGreaterThan(WATCHDOG_MS);
      const reasons = receiver.messages.filter((m) => m.t >= lockedAt && /^unhealthy: /.test(m.fields.STATUS ?? '')).map((m) => m.fields.STATUS).join('\n');
      expect(unhealthy.fields.WATCHDOG).toBeUndefined();
      expect(reasons, agent.stderrText).toMatch(/event loop stalled \d+ ms \(bound 1250 ms\)/);
      expect(reasons).toMatch(/store: \d+ samples and \d+ records waiting \d+ s for a commit \(\d+ failed commits so far\)/);
      expect(agent.stderrText).toContain('systemd: watchdog pings withheld');

      // Lock released: commits go through again and the pings resume, without a restart.
      const resumed = await receiver.waitFor((m) => m.fields.WATCHDOG === '1', 4 * WATCHDOG_MS, sinceRelease);
      await sleep(2 * WATCHDOG_MS);
      expect(largestGap(receiver.watchdogTimes(resumed.t), resumed.t, Date.now())).toBeLessThan(WATCHDOG_MS);
      expect(agent.stderrText).toContain('systemd: healthy again');
      agent.kill('SIGTERM');
      expect(await exited(agent), agent.stderrText).toBe(0);
    } finally {
      locker?.close();
      agent.kill('SIGKILL');
      receiver.stop();
    }
  }, 120_000);
});

describe('sd_notify', () => {
  const log = () => {};

  it('does nothing without NOTIFY_SOCKET', () => {
    expect(SystemdNotifier.fromEnvironment({ WATCHDOG_USEC: '3000000' }, log)).toBeUndefined();
  });

  it('takes the watchdog only for this process, and only a positive number of microseconds', () => {
    expect(watchdogTimeoutMs({ WATCHDOG_USEC: '3000000' }, 42, log)).toBe(3000);
    expect(watchdogTimeoutMs({ WATCHDOG_USEC: '3000000', WATCHDOG_PID: '42' }, 42, log)).toBe(3000);
    expect(watchdogTimeoutMs({ WATCHDOG_USEC: '3000000', WATCHDOG_PID: '43' }, 42, log)).toBeUndefined();
    const warnings: string[] = [];
    for (const bad of ['0', '-5', '3s', 'abc']) expect(watchdogTimeoutMs({ WATCHDOG_USEC: bad }, 42, (_l, m) => warnings.push(m))).toBeUndefined();
    expect(warnings).toHaveLength(4);
    expect(watchdogTimeoutMs({}, 42, log)).toBeUndefined();
  });

  it('sends to a path and to an abstract socket; a socket nobody listens on is counted, not thrown', async () => {
    const receiver = await NotifyReceiver.start();
    try {
      const notifier = SystemdNotifier.fromEnvironment({ NOTIFY_SOCKET: receiver.socket }, log)!;
      expect(notifier.watchdogMs).toBeUndefined();
      expect(notifier.notify({ STATUS: 'two\nlines', READY: 1 })).toBe(true);
      const got = await receiver.waitFor(() => true, 5000);
      expect(got.fields).toEqual({ STATUS: 'two lines', READY: '1' });
    } finally {
      receiver.stop();
    }
    const warnings: string[] = [];
    const lost = SystemdNotifier.fromEnvironment({ NOTIFY_SOCKET: receiver.socket }, (_l, m) => warnings.push(m))!;
    expect(lost.notify({ WATCHDOG: 1 })).toBe(false);
    expect(lost.failed).toBe(1);
    expect(warnings[0]).toMatch(/sd_notify to .* failed \(1 so far\): sd_notify: sendto: /);
    const abstract = SystemdNotifier.fromEnvironment({ NOTIFY_SOCKET: `@roadlink-test-${process.pid}-nobody` }, log)!;
    expect(abstract.notify({ WATCHDOG: 1 })).toBe(false); // sent to the abstract namespace: ECONNREFUSED, nobody bound
    const relative = SystemdNotifier.fromEnvironment({ NOTIFY_SOCKET: 'vsock:2:1234' }, log)!;
    expect(relative.notify({ READY: 1 })).toBe(false);
  });
});
