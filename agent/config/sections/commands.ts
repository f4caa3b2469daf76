/**
 * `commands:` — who may send remote commands, the freshness and concurrency limits, the audit log,
 * and the catalog: what each command writes on the bus, when it is safe, and how it is confirmed.
 *
 *   commands:
 *     keys:
 *       - { id: backend, public_key: "base64 or PEM", use: [commands, rules] }   # or public_key_file: x.pub.pem
 *     max_lifetime: 5m            # expires_at - issued_at at most
 *     clock_skew: 30s             # tolerance for issued_at in the future and expires_at in the past
 *     max_in_progress: 2          # beyond: REJECTED busy
 *     remember_results: 15m       # ids and results are kept this long after a command expired
 *     audit_log: { path: commands-audit.jsonl, max_size: 1MiB, keep: 3 }
 *     catalog:
 *       door_lock:
 *         group: doors            # one command of a group at a time (a second is REJECTED conflict)
 *         preconditions: { stopped: "Vehicle.Speed == 0" }         # REJECTED unsafe:stopped
 *         send:
 *           - message: TCU_BODY_REQUEST                              # DBC message (bus: when ambiguous)
 *             signals: { LockRequest: LOCK, HornRequest: 0, LightsFlashRequest: 0, RequestCounter: 0 }
 *         confirm: 'Vehicle.Body.LockState == "LOCKED"'             # SUCCEEDED when it holds
 *         timeout: 5s                                               # else TIMEOUT
 *       preconditioning_on:
 *         args: { target_temp_c: { type: number, min: 16, max: 28, default: 21 } }
 *         send: [{ message: TCU_CLIMATE_REQUEST, signals: { AcRequest: ON, TargetTemperature: { arg: target_temp_c } } }]
 *
 * This reader checks the shape; the conditions are compiled by the agent's config check
 * (agent/runtime/agent-config.ts) and the DBC side (messages, signals, labels, ranges) when the
 * catalog is compiled against the loaded DBCs (agent/commands/command-catalog.ts).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { KEY_USES, parsePublicKey, type KeyUse } from '../../../wire/command-keys.js';
import { stateDir, type ValueNode } from '../config-reader.js';

export interface CommandKeyConfig {
  id: string;
  /** The key as written (PEM or base64), or the content of public_key_file. */
  publicKey: string;
  use: KeyUse[];
}

export interface CommandArgConfig {
  name: string;
  /** number: a decimal text in the request; text: a word (typically a VAL_ label). */
  type: 'number' | 'text';
  min?: number;
  max?: number;
  integer: boolean;
  /** text: the accepted words. */
  values?: string[];
  /** Used when the request omits the argument; without one the argument is required. */
  default?: number | string;
}

/** A signal's value in a frame: a number, a VAL_ label (or numeric text), or a command argument. */
export type SignalValueConfig = number | string | { arg: string };

export interface CommandFrameConfig {
  message: string;
  /** The bus to send on; needed only when several buses' DBCs define the message. */
  bus?: string;
  signals: Record<string, SignalValueConfig>;
}

export interface CommandDefinition {
  name: string;
  group: string;
  args: CommandArgConfig[];
  /** name → condition; a false one rejects the command with reason `unsafe:<name>`. */
  preconditions: { name: string; when: string }[];
  send: CommandFrameConfig[];
  /** Absent: SUCCEEDED as soon as the frames are sent. */
  confirm?: string;
  timeoutMs: number;
}

export interface AuditLogConfig {
  /** JSON Lines file (absolute path). */
  path: string;
  /** The file is rotated (`.1`, `.2`, ...) when it would grow past this. */
  maxBytes: number;
  /** Rotated files kept. */
  keep: number;
}

export interface CommandsConfig {
  keys: CommandKeyConfig[];
  maxLifetimeMs: number;
  clockSkewMs: number;
  maxInProgress: number;
  rememberMs: number;
  auditLog: AuditLogConfig;
  catalog: CommandDefinition[];
}

const NAME = /^[a-z][a-z0-9_]{0,63}$/;
const NAME_HINT = 'a lower-case name of letters, digits and _ (like door_lock)';
const KEY_ID = /^[\x21-\x7e]{1,64}$/;
const DBC_NAME = /^[A-Za-z0-9_]+$/;
const DEFAULT_AUDIT_FILE = 'commands-audit.jsonl';

export const DEFAULT_COMMANDS: Omit<CommandsConfig, 'auditLog'> = {
  keys: [],
  maxLifetimeMs: 5 * 60_000,
  clockSkewMs: 30_000,
  maxInProgress: 2,
  rememberMs: 15 * 60_000,
  catalog: [],
};

export function readCommands(node: ValueNode): CommandsConfig {
  const r = node.object();
  const config: CommandsConfig = {
    keys: r?.list('keys', readKey) ?? [],
    maxLifetimeMs: r?.duration('max_lifetime', { default: DEFAULT_COMMANDS.maxLifetimeMs, minMs: 1000 }) ?? DEFAULT_COMMANDS.maxLifetimeMs,
    clockSkewMs: r?.duration('clock_skew', { default: DEFAULT_COMMANDS.clockSkewMs }) ?? DEFAULT_COMMANDS.clockSkewMs,
    maxInProgress: r?.number('max_in_progress', { default: DEFAULT_COMMANDS.maxInProgress, integer: true, min: 1, max: 64 }) ?? DEFAULT_COMMANDS.maxInProgress,
    rememberMs: r?.duration('remember_results', { default: DEFAULT_COMMANDS.rememberMs }) ?? DEFAULT_COMMANDS.rememberMs,
    auditLog: readAuditLog(r ? r.get('audit_log') : node.child('audit_log')),
    catalog: r ? r.get('catalog').entries((item, name) => readCommand(item, name)).map(([, c]) => c) : [],
  };
  if (r) {
    const ids = new Set<string>();
    config.keys.forEach((key, i) => {
      if (ids.has(key.id)) r.get('keys').child(i).child('id').problem(`duplicate key id '${key.id}'`);
      ids.add(key.id);
    });
  }
  r?.done();
  return config;
}

function readKey(item: ValueNode): CommandKeyConfig | undefined {
  const r = item.object();
  if (!r) return undefined;
  const id = r.string('id', { required: true, pattern: KEY_ID, hint: 'printable text without spaces, at most 64 characters' });
  let publicKey: string | undefined;
  if (r.has('public_key') === r.has('public_key_file')) {
    r.problem('needs exactly one of public_key or public_key_file');
  } else if (r.has('public_key')) {
    publicKey = checkedKey(r.get('public_key'), r.string('public_key'));
  } else {
    const fileNode = r.get('public_key_file');
    const file = fileNode.path({ mustExist: 'file' });
    if (file !== undefined) {
      try {
        publicKey = checkedKey(fileNode, readFileSync(file, 'utf8'));
      } catch (error) {
        fileNode.problem(`cannot read ${file}: ${(error as Error).message}`);
      }
    }
  }
  const use = r.has('use') ? r.list('use', (u) => u.oneOf(KEY_USES), { minItems: 1 }) : [...KEY_USES];
  r.done();
  return id !== undefined && publicKey !== undefined ? { id, publicKey, use } : undefined;
}

function checkedKey(node: ValueNode, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    parsePublicKey(text);
    return text;
  } catch (error) {
    return node.problem(`not a usable Ed25519 public key: ${(error as Error).message}`);
  }
}

function readAuditLog(node: ValueNode): AuditLogConfig {
  const r = node.object();
  const log: AuditLogConfig = {
    path: r?.path('path', { default: DEFAULT_AUDIT_FILE, state: true }) ?? resolve(stateDir(node.context), DEFAULT_AUDIT_FILE),
    maxBytes: r?.byteSize('max_size', { default: 1024 * 1024, min: 4096 }) ?? 1024 * 1024,
    keep: r?.number('keep', { default: 3, integer: true, min: 0, max: 100 }) ?? 3,
  };
  r?.done();
  return log;
}

function readCommand(item: ValueNode, name: string): CommandDefinition | undefined {
  if (!NAME.test(name)) return item.problem(`a command name is ${NAME_HINT}`);
  const r = item.object({ required: true });
  if (!r) return undefined;
  const args = r.get('args').entries(readArg).map(([, arg]) => arg);
  const argNames = new Set(args.map((a) => a.name));
  const preconditions = r.get('preconditions').entries((when, key) => {
    if (!NAME.test(key)) return when.problem(`a precondition name is ${NAME_HINT}`);
    const text = when.string({ required: true });
    return text === undefined ? undefined : { name: key, when: text };
  });
  const confirm = r.get('confirm').string();
  const command: CommandDefinition = {
    name,
    group: r.string('group', { default: name, pattern: NAME, hint: NAME_HINT }),
    args,
    preconditions: preconditions.map(([, p]) => p),
    send: r.list('send', (frame) => readFrame(frame, argNames), { required: true, minItems: 1 }),
    confirm,
    timeoutMs: r.duration('timeout', { default: 10_000, minMs: 10 }),
  };
  r.done();
  return command;
}

function readArg(item: ValueNode, name: string): CommandArgConfig | undefined {
  if (!NAME.test(name)) return item.problem(`an argument name is ${NAME_HINT}`);
  const r = item.object({ required: true });
  if (!r) return undefined;
  const type = r.oneOf('type', ['number', 'text'] as const, { default: 'number' });
  const arg: CommandArgConfig = { name, type, integer: false };
  if (type === 'number') {
    arg.min = r.number('min');
    arg.max = r.number('max');
    arg.integer = r.boolean('integer', { default: false });
    arg.default = r.number('default', { min: arg.min, max: arg.max, integer: arg.integer || undefined });
    if (arg.min !== undefined && arg.max !== undefined && arg.min > arg.max) r.get('max').problem(`must be >= min (${arg.min})`);
  } else {
    arg.values = r.has('values') ? r.list('values', (v) => v.string({ required: true }), { minItems: 1 }) : undefined;
    const defaultNode = r.get('default');
    arg.default = defaultNode.string();
    if (arg.default !== undefined && arg.values && !arg.values.includes(arg.default)) {
      defaultNode.problem(`must be one of ${arg.values.join(' | ')}`);
    }
  }
  r.done();
  return arg;
}

function readFrame(item: ValueNode, argNames: ReadonlySet<string>): CommandFrameConfig | undefined {
  const r = item.object();
  if (!r) return undefined;
  const message = r.string('message', { required: true, pattern: DBC_NAME, hint: 'a DBC message name' });
  const bus = r.string('bus');
  const signals = r.get('signals').entries((value, signal) => readSignalValue(value, signal, argNames), { required: true });
  if (signals.length === 0 && r.has('signals')) r.get('signals').problem('must give at least one signal');
  r.done();
  return message === undefined ? undefined : { message, ...(bus === undefined ? {} : { bus }), signals: Object.fromEntries(signals) };
}

function readSignalValue(node: ValueNode, signal: string, argNames: ReadonlySet<string>): SignalValueConfig | undefined {
  if (!DBC_NAME.test(signal)) return node.problem('a DBC signal name is letters, digits and _');
  const v = node.value;
  if (typeof v === 'number') return Number.isFinite(v) ? v : node.problem('must be a finite number');
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') return v;
  const r = node.object();
  if (!r) return node.problem('must be a number, a VAL_ label or { arg: NAME }');
  const argNode = r.get('arg');
  const arg = argNode.string({ required: true });
  r.done();
  if (arg === undefined) return undefined;
  if (!argNames.has(arg)) return argNode.problem(`'${arg}' is not declared under args`);
  return { arg };
}
