/**
 * Footprint benchmark (issue #11, "the agent within a head unit's budget"): the real agent process
 * (`node dist/apps/cli/main.js run --config demo.yaml`, the demo configuration with its replay looped)
 * against a real local mosquitto, measured from outside:
 *
 *   - start time: spawn → the agent's "first frame decoded" log line (the agent also prints its own
 *     figure, ms since process start on its performance clock);
 *   - peak RSS (VmHWM from /proc/<pid>/status, which only grows) after a steady-state stretch, then
 *     after each downlink attack in turn: 1,000 garbage cmd/req messages; 1,000 validly signed
 *     commands that are refused (half expired, half unknown); deflate bombs (and oversize payloads)
 *     on cmd/req and rules;
 *   - that the agent is still running and uploading at the end, and stops cleanly on SIGTERM.
 *
 * The agent runs twice: with node's defaults (as `node dist/apps/cli/main.js`), and through the
 * launcher (bin/roadlink) in an ARM bundle's layout around this checkout, with the node flags and
 * environment it gives the agent on a head unit. FOOTPRINT_FLAGS ("flags|flags|...",
 * "" = none) runs node with other flag sets instead; FOOTPRINT_STATS=SEC prints the agent's memory
 * figures and the responses waiting for PUBACK every SEC seconds.
 *
 * Run: npm run bench -- footprint
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import mqtt, { type MqttClient } from 'mqtt';
import { parsePrivateKey } from '../../wire/command-keys.js';
import { signCommand, type SigningKey } from '../../backend/command-client.js';
import { CommandResponse } from '../../proto/gen/roadlink.js';
import { DEFLATE_RAW, ENCODING_PROPERTY } from '../../wire/payload.js';
import { benchDemo, type BenchDemo } from '../helpers/bench-demo.js';
import { Mosquitto } from '../helpers/mosquitto.js';

const MAIN = fileURLToPath(new URL('../../apps/cli/main.js', import.meta.url));
const STEADY_MS = 20_000;
/** The steady stretch's last part, over which the agent's CPU is measured: after the start's compile work. */
const CPU_WINDOW_MS = 10_000;
const FLOOD = 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** VmHWM and VmRSS of `pid`, MB (1e6 bytes). */
function memoryOf(pid: number): { hwm: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { hwm: (kb('VmHWM') * 1024) / 1e6, rss: (kb('VmRSS') * 1024) / 1e6 };
}

/** CPU time `pid` has used (user + system), ms. /proc/<pid>/stat counts in USER_HZ ticks, 100 per second on Linux. */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces, so split after its closing parenthesis): utime is the 12th, stime the 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface AgentProcess {
  child: ChildProcess;
  /** spawn → "first frame decoded" line, ms; and the agent's own figures (ms since process start, CPU ms). */
  started: Promise<{ spawnMs: number; selfMs: number; cpuMs: number }>;
  connected: Promise<void>;
  stderr: () => string;
}

/** How the agent is started: a program and the arguments before `run ...` (node + flags + main.js, or a launcher). */
type AgentCommand = [program: string, ...args: string[]];

function spawnAgent(configFile: string, brokerUrl: string, [program, ...args]: AgentCommand): AgentProcess {
  const t0 = performance.now();
  const child = spawn(program, [...args, 'run', '--config', configFile, '--broker', brokerUrl, '--stats-interval', process.env.FOOTPRINT_STATS ?? '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let text = '';
  let onStart!: (v: { spawnMs: number; selfMs: number; cpuMs: number }) => void;
  let onConnect!: () => void;
  const started = new Promise<{ spawnMs: number; selfMs: number; cpuMs: number }>((resolve) => (onStart = resolve));
  const connected = new Promise<void>((resolve) => (onConnect = resolve));
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (text.length < 200_000) text += `${line}\n`;
    if (process.env.FOOTPRINT_STATS && line.includes(' stats ')) {
      const stats = JSON.parse(line.slice(line.indexOf(' stats ') + 7)) as { memory: unknown; uplink?: { controlPending: number } };
      console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s ${JSON.stringify(stats.memory)}, responses waiting for PUBACK: ${stats.uplink?.controlPending}`);
    }
    const first = /first frame decoded (\d+) ms after process start \((\d+) ms of CPU\)/.exec(line);
    if (first) onStart({ spawnMs: performance.now() - t0, selfMs: Number(first[1]), cpuMs: Number(first[2]) });
    if (line.includes('mqtt connected')) onConnect();
  });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`agent exited (${code}):\n${text}`))));
  exited.catch(() => undefined);
  return { child, started: Promise.race([started, exited]), connected: Promise.race([connected, exited]), stderr: () => text };
}

async function client(url: string): Promise<MqttClient> {
  const c = mqtt.connect(url, { protocolVersion: 5, clean: true, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return c;
}

async function until(what: string, done: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`footprint bench: timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Raw-deflated zeros: `inflatedMiB` MiB once inflated, a few hundred KiB on the wire. */
function bomb(inflatedMiB: number): Buffer {
  return deflateRawSync(Buffer.alloc(inflatedMiB * 1024 * 1024), { level: 9 });
}

interface Figures {
  startSpawnMs: number;
  startSelfMs: number;
  startCpuMs: number;
  load: number;
  steady: number;
  /** CPU the agent used during the steady stretch, % of one core. */
  steadyCpu: number;
  garbage: number;
  refused: number;
  bombs: number;
  rssEnd: number;
  dataAfter: number;
  exitCode: number | null;
}

async function measure(demo: BenchDemo, broker: Mosquitto, command: AgentCommand): Promise<Figures> {
  const vin = demo.config().vehicle.vin;
  const topic = (kind: string) => `roadlink/v1/${vin}/${kind}`;
  const backend = await client(broker.url);
  const responses = new Map<string, string>();
  let dataMessages = 0;
  backend.on('message', (t, payload) => {
    if (t === topic('cmd/res')) {
      const r = CommandResponse.decode(payload);
      responses.set(r.id, r.reason);
    } else if (t === topic('data')) dataMessages++;
  });
  await backend.subscribeAsync([topic('cmd/res'), topic('data')], { qos: 1 });
  const agent = spawnAgent(join(demo.dir, 'demo.yaml'), broker.url, command);
  const pid = agent.child.pid!;
  try {
    const start = await agent.started;
    const startLoad = loadavg()[0];
    await agent.connected;
    await sleep(STEADY_MS - CPU_WINDOW_MS);
    const cpuBefore = cpuMsOf(pid);
    await sleep(CPU_WINDOW_MS);
    const steadyCpu = ((cpuMsOf(pid) - cpuBefore) / CPU_WINDOW_MS) * 100;
    const steady = memoryOf(pid).hwm;

    // 1,000 garbage messages on cmd/req: random bytes, 1 B to 4 KiB.
    await Promise.all(Array.from({ length: FLOOD }, () => backend.publishAsync(topic('cmd/req'), randomBytes(1 + Math.floor(Math.random() * 4096)), { qos: 1 })));
    await sleep(3000);
    const garbage = memoryOf(pid).hwm;

    // 1,000 validly signed commands, each refused: half expired, half not in the catalog.
    const key: SigningKey = { keyId: 'demo-backend', privateKey: parsePrivateKey(readFileSync(join(demo.dir, 'demo-backend.key'), 'utf8')) };
    const ids: string[] = [];
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < FLOOD; i++) {
      const expired = i % 2 === 0;
      const { request, bytes } = signCommand({ vin, name: expired ? 'door_lock' : `no_such_command_${i}`, issuedAtMs: expired ? Date.now() - 600_000 : undefined }, key);
      ids.push(request.id);
      sends.push(backend.publishAsync(topic('cmd/req'), Buffer.from(bytes), { qos: 1 }));
    }
    await Promise.all(sends);
    await until('a response to every refused command', () => ids.every((id) => responses.has(id)));
    const refused = memoryOf(pid).hwm;

    // Deflate bombs on cmd/req and rules, each as large as still passes the size check on the wire
    // (about 1 KiB per MiB of zeros): 4 MiB and 128 MiB once inflated; one of 256 MiB (250 KB, an
    // oversize command); and oversize plain payloads of 4 MiB (beyond the announced packet size).
    const deflated = { userProperties: { [ENCODING_PROPERTY]: DEFLATE_RAW } };
    for (const [kind, mib] of [['cmd/req', 4], ['cmd/req', 256], ['rules', 128]] as const) {
      const payload = bomb(mib);
      for (let i = 0; i < 3; i++) await backend.publishAsync(topic(kind), payload, { qos: 1, properties: deflated });
      await backend.publishAsync(topic(kind), randomBytes(4 * 1024 * 1024), { qos: 1 });
    }
    await sleep(3000);
    const bombs = memoryOf(pid).hwm;

    // Still uploading afterwards.
    const before = dataMessages;
    await until('data uploaded after the attacks', () => dataMessages > before, 60_000);
    const rssEnd = memoryOf(pid).rss;
    const exit = new Promise<number | null>((resolve) => agent.child.once('exit', (code) => resolve(code)));
    agent.child.kill('SIGTERM');
    const exitCode = await exit;
    return { startSpawnMs: start.spawnMs, startSelfMs: start.selfMs, startCpuMs: start.cpuMs, load: startLoad, steady, steadyCpu, garbage, refused, bombs, rssEnd, dataAfter: dataMessages - before, exitCode };
  } catch (err) {
    agent.child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\nagent log:\n${agent.stderr().slice(-4000)}`);
  } finally {
    await backend.endAsync();
  }
}

const LAUNCHER = fileURLToPath(new URL('../../../bin/roadlink', import.meta.url));

/**
 * The node flags and environment the launcher starts the agent with (`roadlink run`), asked of the
 * launcher itself: with ROADLINK_EXEC_PREFIX=echo it prints the command line it would exec.
 */
function launcherSettings(launcher: string): string {
  const env = { ...process.env };
  delete env.ROADLINK_NODE_FLAGS;
  delete env.MALLOC_ARENA_MAX;
  const [, ...words] = execFileSync(launcher, ['run'], { env: { ...env, ROADLINK_EXEC_PREFIX: 'echo' }, encoding: 'utf8' }).trim().split(' ');
  const mainAt = words.findIndex((w) => w.endsWith('main.js'));
  if (mainAt < 0) throw new Error(`footprint bench: the launcher would not run main.js: ${words.join(' ')}`);
  const flags = words.slice(0, mainAt);
  const exported = [...readFileSync(LAUNCHER, 'utf8').matchAll(/^\s*export (\w+)="\$\{\1:-([^}]*)\}"$/gm)].map((m) => `${m[1]}=${m[2]}`);
  return `${flags.join(' ')}, ${exported.length > 0 ? exported.join(' ') : 'no environment'}`;
}

/**
 * A bundle's layout around this checkout (bin/roadlink = the launcher, runtime/bin/node = this node,
 * app = the checkout), so that the agent starts exactly as on a head unit: the launcher's flags and
 * environment. Returns the launcher's path.
 */
function bundleLayout(dir: string): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'runtime', 'bin'), { recursive: true });
  copyFileSync(LAUNCHER, join(dir, 'bin', 'roadlink'));
  chmodSync(join(dir, 'bin', 'roadlink'), 0o755);
  symlinkSync(process.execPath, join(dir, 'runtime', 'bin', 'node'));
  symlinkSync(fileURLToPath(new URL('../../..', import.meta.url)), join(dir, 'app'));
  return join(dir, 'bin', 'roadlink');
}

function print(label: string, f: Figures): void {
  const mb = (v: number) => `${v.toFixed(1)} MB`;
  console.log(`[${label}] start: spawn → first decoded frame ${f.startSpawnMs.toFixed(0)} ms (agent's own clock: ${f.startSelfMs} ms after process start, ${f.startCpuMs} ms of CPU; load average ${f.load.toFixed(1)} on ${cpus().length} cores)`);
  console.log(`[${label}] peak RSS (VmHWM): steady state ${mb(f.steady)}; after ${FLOOD} garbage cmd/req ${mb(f.garbage)}; after ${FLOOD} signed-but-refused commands ${mb(f.refused)}; after deflate bombs + oversize payloads on cmd/req and rules ${mb(f.bombs)}`);
  console.log(`[${label}] CPU in steady state: ${f.steadyCpu.toFixed(1)} % of one core (the last ${CPU_WINDOW_MS / 1000} s)`);
  console.log(`[${label}] afterwards: RSS ${mb(f.rssEnd)}, ${f.dataAfter} data message(s) uploaded, SIGTERM exit code ${f.exitCode}`);
}

export async function run(): Promise<void> {
  // The demo configuration, its drive looped so that the agent keeps decoding and uploading.
  const demo = benchDemo([[/speed: 30\b/, 'speed: 30\n    loop: true']]);
  try {
    const launcher = bundleLayout(join(demo.dir, 'bundle'));
    const runs: [string, AgentCommand][] = process.env.FOOTPRINT_FLAGS
      ? process.env.FOOTPRINT_FLAGS.split('|').map((f) => [f || 'node defaults', [process.execPath, ...f.split(' ').filter(Boolean), MAIN]])
      : [
          ['node defaults', [process.execPath, MAIN]],
          [`bin/roadlink in a bundle: ${launcherSettings(launcher)}`, [launcher]],
        ];
    for (const [label, command] of runs) {
      const broker = await Mosquitto.start();
      try {
        print(label, await measure(demo, broker, command));
      } finally {
        await broker.dispose();
      }
    }
    console.log(`(demo configuration, replay looped at 30x; ${STEADY_MS / 1000} s steady state; node ${process.version}; VmHWM only grows, so each figure is the peak so far)`);
  } finally {
    demo.dispose();
  }
}
