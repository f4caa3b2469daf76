/**
 * `roadlink demo` (what `npm start` runs): the whole system on one machine, from nothing but this
 * repository. An embedded MQTT 5 broker; the agent replaying the scripted demo drive (generated now
 * from the demo DBC) through decode, rules, features, the SQLite store and the uplink; the backend
 * reference receiver printing what arrives; then a signed remote command, executed on the simulated
 * bus and confirmed by the simulated body ECU. Ends with a summary.
 */
import { copyFileSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, parsePrivateKey } from '../../wire/command-keys.js';
import { sendCommand, type SendOutcome } from '../../backend/command-client.js';
import { loadAgentConfig } from '../../agent/runtime/agent-config.js';
import { loadDbcFile } from '../../agent/decode/dbc-loader.js';
import { Agent } from '../../agent/runtime/agent.js';
import { canDriverSet, createCanDrivers } from '../../agent/runtime/can-drivers.js';
import type { Logger } from '../../wire/log.js';
import { packageRoot } from '../../agent/runtime/package-root.js';
import { Receiver, type ReceiverSummary } from '../../backend/receiver.js';
import { EmbeddedBroker } from './embedded-broker/index.js';
import { DemoBus } from './demo-bus.js';
import { demoDriveLog } from './demo-log.js';
import { DemoReport } from './demo-report.js';

const EXAMPLES = join(packageRoot(), 'examples', 'demo');
export const DEMO_DRIVE_S = 680;
const KEY_ID = 'demo-backend';

export interface DemoOptions {
  /** Working folder (config copy, drive log, database, keys, received JSON lines). Default: a new temp folder. */
  dir?: string;
  /** Use this broker instead of starting the embedded one. */
  brokerUrl?: string;
  /** Replay speed instead of the configuration's 30 (0 = as fast as possible: the tests). */
  speed?: number;
  /** Keep the agent, broker and receiver running after the summary (until SIGINT/SIGTERM). */
  keepRunning?: boolean;
  /** Where the demo's narration goes. Default stdout. */
  print?: (line: string) => void;
  /** The agent's log. Default: warnings and errors on stderr. */
  log?: Logger;
}

export interface DemoResult {
  report: DemoReport;
  command: SendOutcome;
  /** Frames the agent wrote to the (simulated) bus. */
  framesSent: number;
  receiver: ReceiverSummary;
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const { dir, config: configFile, keyPem } = prepareDemoFolder(options.dir ?? mkdtempSync(join(tmpdir(), 'roadlink-demo-')));

  const broker = options.brokerUrl ? undefined : await EmbeddedBroker.start({ host: '127.0.0.1', port: 0 });
  const brokerUrl = options.brokerUrl ?? broker!.url;
  const config = loadAgentConfig(configFile);
  config.uplink!.broker = brokerUrl;
  for (const bus of config.buses) if (bus.driver === 'replay' && options.speed !== undefined) bus.speed = options.speed;
  const report = new DemoReport(print);
  const received = createWriteStream(join(dir, 'backend.jsonl'));
  const receiver = new Receiver({
    broker: { url: brokerUrl },
    writeLine: (line) => {
      received.write(`${line}\n`);
      report.onLine(line);
    },
    // Gaps are reported as they appear; events overtake telemetry by priority, so most close soon after.
    log: (level, message) => level === 'error' && print(`[backend] ${level}: ${message}`),
  });
  await receiver.start();

  print('Roadlink demo: a scripted 11-minute drive, replayed 30x faster through the whole system');
  print(`  broker   ${broker ? 'embedded MQTT 5 broker' : 'external broker'} at ${brokerUrl}`);
  print(`  vehicle  ${config.vehicle.vin} (${config.vehicle.brand} ${config.vehicle.model}), demo DBC, drive log ${join(dir, 'demo-drive.log')}`);
  print(`  store    ${config.storage.path}`);
  print(`  backend  reference receiver; every message as a JSON line in ${join(dir, 'backend.jsonl')}`);
  print('');

  const started = Date.now();
  const db = loadDbcFile(join(dir, 'demo-vehicle.dbc')).db; // the simulated ECUs encode their answers with it
  let bus: DemoBus | undefined;
  const agent = await Agent.start(config, {
    replayTimestamps: 'log',
    log: options.log ?? ((level, message) => (level === 'error' || level === 'warn') && process.stderr.write(`[agent] ${level}: ${message}\n`)),
    canDrivers: (c, decoder, o) => {
      const replay = createCanDrivers(c.buses, decoder, o);
      bus = new DemoBus(replay.all[0], db, c.buses[0].name);
      return canDriverSet(new Map([[c.buses[0].name, bus]]), replay.replaysEnded);
    },
  });
  await agent.replaysEnded;
  await agent.drained();
  print(`[demo] drive replayed: ${agent.stats().frames} frames in ${((Date.now() - started) / 1000).toFixed(1)} s; every stored row acknowledged by the broker`);

  print('[demo] the backend sends a signed remote command: door_lock');
  const command = await sendCommand({
    broker: { url: brokerUrl },
    key: { keyId: KEY_ID, privateKey: parsePrivateKey(keyPem) },
    command: { vin: config.vehicle.vin, name: 'door_lock', args: {}, ttlMs: 30_000 },
    onResponse: (r) => report.onCommandResponse('door_lock', r),
  });
  await new Promise((resolve) => setTimeout(resolve, 300)); // the last status and responses reach the receiver
  const framesSent = bus?.ecu.sent.length ?? 0;
  const summary = receiver.summary();
  report.printSummary({ command, framesSent, wireBytes: agent.uplink?.stats().wireBytesSent ?? 0, receiver: summary });

  if (options.keepRunning) {
    print('[demo] running on (Ctrl-C stops)');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  }
  await agent.stop();
  await receiver.stop();
  received.end();
  await broker?.close();
  return { report, command, framesSent, receiver: summary };
}

export interface DemoFolder {
  dir: string;
  config: string;
  log: string;
  /** The backend's command-signing key (PEM); the configuration trusts its public half. */
  keyPem: string;
}

/**
 * Lays out a demo folder: the demo configuration and DBC copied from examples/demo, the drive written as
 * demo-drive.log (the file its replay bus names), and a command-signing key pair (demo-backend.key/.pub).
 * `startUs`: time of the drive's first frame (default: the drive ends now). `editConfig` may change the
 * configuration text (the tests' variants).
 */
export function prepareDemoFolder(dir: string, options: { startUs?: number; editConfig?: (yaml: string) => string } = {}): DemoFolder {
  mkdirSync(dir, { recursive: true });
  const dbc = join(dir, 'demo-vehicle.dbc');
  copyFileSync(join(EXAMPLES, 'demo-vehicle.dbc'), dbc);
  const config = join(dir, 'demo.yaml');
  const yaml = readFileSync(join(EXAMPLES, 'demo.yaml'), 'utf8');
  writeFileSync(config, options.editConfig ? options.editConfig(yaml) : yaml);
  const log = join(dir, 'demo-drive.log');
  const startUs = options.startUs ?? (Date.now() - DEMO_DRIVE_S * 1000) * 1000;
  writeFileSync(log, demoDriveLog(loadDbcFile(dbc).db, { startUs, durationS: DEMO_DRIVE_S }));
  const keys = generateKeyPair();
  writeFileSync(join(dir, 'demo-backend.key'), keys.privateKeyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'demo-backend.pub'), keys.publicKeyPem);
  return { dir, config, log, keyPem: keys.privateKeyPem };
}
