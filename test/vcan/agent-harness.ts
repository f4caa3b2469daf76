// The agent on real SocketCAN in the vcan VM: start it from a YAML text, play candump logs onto vcan
// interfaces with can-utils' canplayer, and read back what reached its SQLite store.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAgentConfig } from '../../agent/runtime/agent-config.js';
import { Agent, type AgentOptions } from '../../agent/runtime/agent.js';
import { decodeSampleChunk } from '../../wire/sample-chunk.js';
import { SocketCanDriver } from '../../drivers/socketcan/socketcan-driver.js';
import { Event } from '../../proto/gen/roadlink.js';

/** Corpus logs (GPL-3.0, read in place) with their DBC and cantools' reference decode. */
export const KONA = {
  log: 'logs/eldominio/kona/turnonlog.log',
  dbc: 'dbc/opendbc/hyundai_can.dbc',
  reference: 'reference/kona_turnonlog.hyundai_can.cantools.jsonl.gz',
};
export const YARIS = {
  log: 'logs/eldominio/yaris09/steering.log',
  dbc: 'dbc/opendbc/toyota_iQ_2009_can.dbc',
  reference: 'reference/yaris09_steering.toyota_iQ_2009_can.cantools.jsonl.gz',
};

export const run = promisify(execFile);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `ok` every 20 ms; fails naming `what` (and `detail()`, when given) after `ms`. */
export async function until(what: string, ok: () => boolean, ms = 30_000, detail?: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${detail ? `: ${detail()}` : ''}`);
    await sleep(20);
  }
}

/** A fresh temporary folder (the VM's /tmp is a tmpfs; nothing goes into the repository). */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `roadlink-vcan-${prefix}-`));
}

export interface RunningAgent {
  agent: Agent;
  /** Every line the agent logged, as "<level> <message>". */
  logs: string[];
}

/** Checks `yaml` with the real config loader (relative paths from `baseDir`) and starts the agent. */
export async function startAgent(yaml: string, baseDir: string, options: AgentOptions = {}): Promise<RunningAgent> {
  const logs: string[] = [];
  const config = parseAgentConfig(yaml, { baseDir });
  const agent = await Agent.start(config, { log: (level, message) => logs.push(`${level} ${message}`), ...options });
  return { agent, logs };
}

/** The SocketCAN driver serving `bus` (it fails when the bus has another driver). */
export function socketCanDriverOf(agent: Agent, bus: string): SocketCanDriver {
  const driver = agent.driverFor(bus);
  if (!(driver instanceof SocketCanDriver)) throw new Error(`bus ${bus} is not served by the SocketCAN driver (${driver?.name})`);
  return driver;
}

/** Per interface: frames in and the kernel's drop count (a VM stalled long enough loses frames). */
export function interfaceReport(driver: SocketCanDriver): string {
  return driver
    .interfaceStatus()
    .map((s) => `${s.iface}: ${s.framesIn} frames in, ${s.kernelDrops ?? 'unknown'} dropped by the kernel (receive buffer ${s.rcvbufBytes ?? '?'} bytes)`)
    .join('; ');
}

/** `canplayer -I <log> <map...>` (e.g. "vcan0=can0") at the log's own pace; resolves when it has played it all. */
export function canplayer(log: string, ...map: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('canplayer', ['-I', log, ...map], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`canplayer ${log} exited ${code}: ${stderr.trim()}`))));
  });
}

/** The start of a candump log (its first `lines` lines, plus any that share the last one's time) as a file in `dir`. */
export function trimLog(source: string, lines: number, dir: string): string {
  const all = readFileSync(source, 'utf8').split('\n').filter((l) => l.trim() !== '');
  let n = Math.min(lines, all.length);
  const timeOf = (line: string) => line.slice(0, line.indexOf(')') + 1);
  while (n < all.length && timeOf(all[n]) === timeOf(all[n - 1])) n++;
  const path = join(dir, `head${n}.log`);
  writeFileSync(path, all.slice(0, n).join('\n') + '\n');
  return path;
}

/** What a candump -L log line carries: time (as written), interface, id (hex as written, upper case) and payload hex. */
export function logFrames(path: string): { time: string; iface: string; id: string; data: string }[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const [time, iface, frame] = line.trim().split(/\s+/);
      const [id, data] = frame.split(/#+/);
      return { time: time.slice(1, -1), iface, id: id.toUpperCase(), data };
    });
}

/**
 * Message IDs a DBC file defines, read with a regular expression rather than the project's parser:
 * "123" for an 11-bit ID, "1ABCDE00" (8 digits) for a 29-bit one, as candump writes them.
 */
export function dbcIds(path: string): Set<string> {
  const ids = new Set<string>();
  for (const m of readFileSync(path, 'latin1').matchAll(/^BO_ (\d+) /gm)) {
    const n = Number(m[1]);
    if (n >= 0x80000000) ids.add((n - 0x80000000).toString(16).toUpperCase().padStart(8, '0'));
    else if (n <= 0x7ff) ids.add(n.toString(16).toUpperCase().padStart(3, '0'));
  }
  return ids;
}

export interface StoredContent {
  /** Samples of the regular rules by vehicle signal name: values in store order. */
  samples: Map<string, number[]>;
  /** Rule-trigger events in store order: rule name and the captured values. */
  events: { rule: string; values: Record<string, number> }[];
}

/**
 * Everything committed in the agent's store, decoded as the backend would: sample rows through the
 * store's column codec and the agent's signal table (grid scale and offset), event rows as
 * roadlink.v1.Event. Call after agent.drained() (which commits what is pending).
 */
export function storedContent(agent: Agent): StoredContent {
  const rows = agent.store.nextBatch(1_000_000).sort((a, b) => (a.stream === b.stream ? a.firstSeq - b.firstSeq : a.stream < b.stream ? -1 : 1));
  const samples = new Map<string, number[]>();
  const events: StoredContent['events'] = [];
  for (const row of rows) {
    if (row.kind === 'record') {
      const event = Event.decode(row.bytes);
      if (event.ruleTrigger) events.push({ rule: event.ruleTrigger.rule ?? '', values: { ...event.ruleTrigger.values } });
      continue;
    }
    const { columns } = decodeSampleChunk(row.bytes);
    for (let c = 0, k = 0; c < columns.columnCount; c++) {
      const descriptor = agent.signals[columns.columnSignal[c]];
      const name = descriptor.name ?? `#${columns.columnSignal[c]}`;
      const scale = descriptor.scale ?? 1;
      const offset = descriptor.offset ?? 0;
      const list = samples.get(name) ?? [];
      for (; k < columns.columnEnd[c]; k++) list.push(columns.raw[k] * scale + offset);
      samples.set(name, list);
    }
  }
  return { samples, events };
}
