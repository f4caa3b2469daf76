// Runs on the build machine's node: the bundle's agent (`roadlink run`, emulated) replays a candump
// log written here (fixtures.mjs) and uploads over MQTT 5 to a mosquitto on a free loopback port;
// the check subscribes to the vehicle's topics and waits for a data upload, then stops the agent
// with SIGTERM (as systemd does); the project's reference receiver (`roadlink backend`, run on this
// machine from the bundle's JavaScript) decodes the uploads, whose values must be the log's. aedes, the project's embedded broker, speaks no MQTT 5, hence
// mosquitto (.ci/run installs it). The agent runs as under systemd's Type=notify: a python3 AF_UNIX
// datagram socket as $NOTIFY_SOCKET with $WATCHDOG_USEC must get READY=1, WATCHDOG=1 and, after
// SIGTERM, STOPPING=1 (the cross-compiled sd_notify addon, sending from the emulated process).
// Prints the time from start to the agent's first decoded frame (its own log line) and to the first upload.
// usage: agent-run-check.mjs <bundle-dir> <work-dir>
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { DRIVE_LOG_RPMS, SMOKE_VIN, writeAgentConfig, writeDriveLog, writeSmokeDbc } from './fixtures.mjs';

const [bundle, work] = process.argv.slice(2);
if (!bundle || !work) throw new Error('usage: agent-run-check.mjs <bundle-dir> <work-dir>');
const DRIVE_LOG_MIN_RPM = Math.min(...DRIVE_LOG_RPMS);
const DRIVE_LOG_MAX_RPM = Math.max(...DRIVE_LOG_RPMS);
const UPLOAD_TIMEOUT_MS = 90_000; // emulated start + one commit + one publish, on a loaded 2-core machine
const MOSQUITTO = '/usr/sbin/mosquitto';

const cleanups = [];
const fail = (message) => {
  console.error(`agent-run-check: ${message}`);
  for (const cleanup of cleanups.reverse()) cleanup();
  process.exit(1);
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

// 1. the broker
if (!existsSync(MOSQUITTO)) fail(`${MOSQUITTO} missing: apt-get install mosquitto`);
const port = await freePort();
const brokerConf = join(work, 'mosquitto.conf');
writeFileSync(brokerConf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', `user ${userInfo().username}`, ''].join('\n'));
const broker = spawn(MOSQUITTO, ['-c', brokerConf], { stdio: 'ignore' });
cleanups.push(() => broker.kill('SIGKILL'));
const brokerDeadline = Date.now() + 10_000;
while (!(await accepts(port))) {
  if (broker.exitCode !== null || Date.now() > brokerDeadline) fail(`mosquitto did not start on port ${port}`);
  await sleep(50);
}

// 2. a subscriber on the vehicle's topics
const received = new Map();
let firstDataMs;
const subscriber = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5, clientId: 'smoke-subscriber' });
cleanups.push(() => subscriber.end(true));
await subscriber.subscribeAsync(`roadlink/v1/${SMOKE_VIN}/#`, { qos: 1 });
subscriber.on('message', (topic, payload) => {
  const kind = topic.slice(`roadlink/v1/${SMOKE_VIN}/`.length);
  received.set(kind, (received.get(kind) ?? 0) + 1);
  if (kind === 'data' && payload.length > 0) firstDataMs ??= performance.now() - started;
});

// The project's reference receiver (host node, the bundle's JavaScript) decodes what arrives.
const receivedFile = join(work, 'received.jsonl');
const receiver = spawn(process.execPath, [join(bundle, 'app', 'dist', 'apps', 'cli', 'main.js'), 'backend', '--broker', `mqtt://127.0.0.1:${port}`, '--no-share', '--out', receivedFile], { stdio: ['ignore', 'ignore', 'pipe'] });
cleanups.push(() => receiver.kill('SIGKILL'));
let receiverLog = '';
receiver.stderr.on('data', (chunk) => (receiverLog += chunk));

// 3. the agent, emulated, with a notification socket as systemd gives it
const notifySocket = join(work, 'notify.sock');
const notifications = [];
const notifyReceiver = spawn('python3', ['-c', [
  'import socket, sys',
  's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
  's.bind(sys.argv[1])',
  'print("bound", flush=True)',
  'while True: print(s.recv(65536).decode().replace("\\n", "|"), flush=True)',
].join('\n'), notifySocket], { stdio: ['ignore', 'pipe', 'inherit'] });
cleanups.push(() => notifyReceiver.kill('SIGKILL'));
let notifyText = '';
notifyReceiver.stdout.on('data', (chunk) => {
  notifyText += chunk;
  const lines = notifyText.split('\n');
  notifyText = lines.pop();
  notifications.push(...lines.filter((l) => l !== 'bound'));
});
const notifyDeadline = Date.now() + 10_000;
while (!existsSync(notifySocket)) {
  if (notifyReceiver.exitCode !== null || Date.now() > notifyDeadline) fail('the python3 notification receiver did not start');
  await sleep(50);
}
const dbc = writeSmokeDbc(work);
const db = join(work, 'agent.db');
const config = writeAgentConfig(work, { dbc, log: writeDriveLog(work, 30), db, brokerUrl: `mqtt://127.0.0.1:${port}` });
const started = performance.now();
const agent = spawn(join(bundle, 'bin', 'roadlink'), ['run', '--config', config], {
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, NOTIFY_SOCKET: notifySocket, WATCHDOG_USEC: '4000000' },
});
cleanups.push(() => agent.kill('SIGKILL'));
let output = '';
agent.stdout.on('data', (chunk) => (output += chunk));
agent.stderr.on('data', (chunk) => (output += chunk));
const exited = once(agent, 'exit');

while (firstDataMs === undefined) {
  if (agent.exitCode !== null || agent.signalCode !== null) fail(`roadlink run exited (${agent.exitCode ?? agent.signalCode}) before any upload:\n${output.slice(-3000)}`);
  if (performance.now() - started > UPLOAD_TIMEOUT_MS) {
    fail(`no upload on roadlink/v1/${SMOKE_VIN}/data within ${UPLOAD_TIMEOUT_MS / 1000} s (got: ${JSON.stringify(Object.fromEntries(received))}):\n${output.slice(-3000)}`);
  }
  await sleep(100);
}

// 4. stop it as systemd would (after noting its peak RSS: the qemu process the launcher exec'd)
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${agent.pid}/status`, 'utf8'));
agent.kill('SIGTERM');
const outcome = await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000).unref())]);
if (outcome === undefined) fail('roadlink run did not stop within 15 s of SIGTERM');
const [code, signal] = outcome;
if (code !== 0 && signal !== 'SIGTERM') fail(`roadlink run ended with ${code ?? signal} after SIGTERM:\n${output.slice(-3000)}`);
if (!existsSync(db) || readFileSync(db).subarray(0, 16).toString('latin1') !== 'SQLite format 3\0') fail(`no SQLite store at ${db}`);
await sleep(200);
const ready = notifications.findIndex((n) => n.split('|').includes('READY=1'));
const pings = notifications.filter((n) => n.split('|').includes('WATCHDOG=1')).length;
const stopping = notifications.findIndex((n) => n.split('|').includes('STOPPING=1'));
if (ready < 0 || pings === 0 || stopping < ready) fail(`sd_notify: expected READY=1, WATCHDOG=1 and then STOPPING=1, got: ${JSON.stringify(notifications)}\n${output.slice(-3000)}`);

// 5. what the receiver decoded: engine speeds, each one the log carried (decoded on the target,
// put on the signal's grid, stored, encoded, uploaded, decoded here)
receiver.kill('SIGTERM');
await once(receiver, 'exit');
const messages = readFileSync(receivedFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
const samples = messages.filter((m) => m.type === 'data').flatMap((m) => m.samples ?? []);
if (samples.length === 0) fail(`the reference receiver decoded no data samples:\n${receiverLog}`);
for (const sample of samples) {
  if (sample.signal !== 'Vehicle.Powertrain.CombustionEngine.Speed' || sample.unit !== 'rpm' || !DRIVE_LOG_RPMS.has(sample.value)) {
    fail(`unexpected sample ${JSON.stringify(sample)} (the log has engine speeds ${DRIVE_LOG_MIN_RPM}..${DRIVE_LOG_MAX_RPM} rpm)`);
  }
}
for (const cleanup of cleanups.reverse()) cleanup();

console.log(`  uploads received: ${[...received].map(([kind, n]) => `${kind} x${n}`).join(', ')}; stopped by SIGTERM (${code ?? signal})`);
console.log(`  decoded by the reference receiver: ${samples.length} engine speed samples, all values from the log (${samples.map((s) => s.value).join(', ')} rpm)`);
console.log(`  sd_notify: READY=1, ${pings} x WATCHDOG=1, STOPPING=1 (${notifications.length} notifications)`);
const firstFrame = /first frame decoded (\d+) ms after process start/.exec(output);
console.log(`  agent's first decoded frame: ${firstFrame ? firstFrame[1] : '?'} ms after process start (its own clock)`);
console.log(`  start to first upload: ${Math.round(firstDataMs)} ms`);
console.log(`  agent peak RSS under emulation (qemu + node): ${hwm ? Math.round(Number(hwm[1]) / 1024) : '?'} MB`);
process.exit(0);
