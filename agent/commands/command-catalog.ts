/**
 * The command catalog compiled against the vehicle's DBC files and signal catalog: for each command,
 * the frames to build (DBC message, bus, signal values with arguments substituted and range-checked,
 * encoded by agent/decode/encoder.ts), its safety preconditions and its confirmation condition.
 * Problems are reported all at once as a ConfigError with key paths (commands.catalog.x.send[0]...).
 */
import type { OutgoingFrame } from '../../drivers/can/can-driver.js';
import { FrameFlag } from '../../drivers/can/frame-batch.js';
import { ConfigError, formatPath, type ConfigIssue, type PathSegment } from '../config/config-error.js';
import type { StatesConfig } from '../config/sections/rules.js';
import type { SignalCatalogEntry } from '../config/sections/signals.js';
import type { DbcDatabase, DbcMessage, DbcSignal } from '../decode/dbc-types.js';
import { encodeMessage, EncodeError, rawValueOf } from '../decode/encoder.js';
import { ExpressionError } from '../rules/expression/expression-parser.js';
import type { CommandArgConfig, CommandDefinition, CommandFrameConfig, SignalValueConfig } from '../config/sections/commands.js';
import { compileCondition, type ConditionEnv, type SignalCondition } from './signal-condition.js';

/** What the catalog is compiled against. */
export interface VehicleModel {
  /** DBC databases per bus, as the decoder is bound (bus '*': every bus). */
  bindings: readonly { bus: string; databases: readonly DbcDatabase[] }[];
  /** The signal catalog (config.signals): where label values of conditions come from. */
  signals: readonly SignalCatalogEntry[];
  /** Vehicle signal names (vehicleSignalNames(config)). */
  signalNames: readonly string[];
  states?: StatesConfig;
  profile?: Readonly<Record<string, number | string>>;
}

/** A request's arguments that cannot be used: the command is REJECTED bad_args with this message. */
export class CommandArgError extends Error {
  override name = 'CommandArgError';
}

interface FramePlan {
  bus: string;
  message: DbcMessage;
  flags: number;
  values: { signal: DbcSignal; value: SignalValueConfig }[];
}

export class CompiledCommand {
  constructor(
    readonly definition: CommandDefinition,
    readonly preconditions: readonly { name: string; condition: SignalCondition }[],
    readonly confirm: SignalCondition | undefined,
    private readonly plans: readonly FramePlan[],
  ) {}

  get name(): string {
    return this.definition.name;
  }

  /** The frames for a request's arguments; throws CommandArgError when they are unusable. */
  buildFrames(requestArgs: Readonly<Record<string, string>>): OutgoingFrame[] {
    const args = resolveArgs(this.definition.args, requestArgs);
    return this.plans.map((plan) => {
      const values: Record<string, number | string> = {};
      for (const { signal, value } of plan.values) {
        if (typeof value !== 'object') {
          values[signal.name] = value;
          continue;
        }
        const v = args.get(value.arg) as number | string;
        const outside = typeof v === 'number' ? rangeProblem(signal, v) : undefined;
        if (outside) throw new CommandArgError(`${value.arg}=${v}: ${plan.message.name}.${signal.name} ${outside}`);
        values[signal.name] = v;
      }
      let data: Uint8Array;
      try {
        data = encodeMessage(plan.message, values);
      } catch (error) {
        if (error instanceof EncodeError) throw new CommandArgError(error.message);
        throw error;
      }
      return { bus: plan.bus, id: plan.message.id, data, flags: plan.flags };
    });
  }
}

export class CommandCatalog {
  private readonly byName: Map<string, CompiledCommand>;

  constructor(commands: readonly CompiledCommand[]) {
    this.byName = new Map(commands.map((c) => [c.name, c]));
  }

  get(name: string): CompiledCommand | undefined {
    return this.byName.get(name);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }
}

/** Compiles every command; throws ConfigError listing every problem. */
export function compileCommandCatalog(definitions: readonly CommandDefinition[], vehicle: VehicleModel): CommandCatalog {
  const issues: ConfigIssue[] = [];
  const problem = (path: PathSegment[], message: string): undefined => {
    issues.push({ path: formatPath(['commands', 'catalog', ...path]), message });
    return undefined;
  };
  const env: ConditionEnv = {
    signalNames: vehicle.signalNames,
    states: vehicle.states,
    profile: vehicle.profile,
    labels: (name) => vehicleLabels(vehicle, name),
  };
  const condition = (text: string, path: PathSegment[]): SignalCondition | undefined => {
    try {
      return compileCondition(text, env);
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      return problem(path, error.message);
    }
  };
  const commands: CompiledCommand[] = [];
  for (const def of definitions) {
    const before = issues.length;
    const preconditions = def.preconditions.map((p) => ({ name: p.name, condition: condition(p.when, [def.name, 'preconditions', p.name]) }));
    const confirm = def.confirm === undefined ? undefined : condition(def.confirm, [def.name, 'confirm']);
    const plans = def.send.map((frame, i) => planFrame(frame, def.args, vehicle, (path, message) => problem([def.name, 'send', i, ...path], message)));
    if (issues.length === before) {
      commands.push(
        new CompiledCommand(def, preconditions as { name: string; condition: SignalCondition }[], confirm, plans as FramePlan[]),
      );
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return new CommandCatalog(commands);
}

type Problem = (path: PathSegment[], message: string) => undefined;

function planFrame(frame: CommandFrameConfig, args: readonly CommandArgConfig[], vehicle: VehicleModel, problem: Problem): FramePlan | undefined {
  const found = findMessage(frame, vehicle, problem);
  if (!found) return undefined;
  const { bus, message } = found;
  const values: FramePlan['values'] = [];
  const trial: Record<string, number | string> = {};
  let ok = true;
  for (const [name, value] of Object.entries(frame.signals)) {
    const signal = message.signals.find((s) => s.name === name);
    if (!signal) {
      ok = false;
      problem(['signals', name], `${message.name} has no signal ${name} (signals: ${message.signals.map((s) => s.name).join(', ')})`);
      continue;
    }
    if (typeof value === 'object') {
      trial[name] = placeholder(args.find((a) => a.name === value.arg) as CommandArgConfig, signal);
    } else {
      const bad = staticValueProblem(message, signal, value);
      if (bad) {
        ok = false;
        problem(['signals', name], bad);
      }
      trial[name] = value;
    }
    values.push({ signal, value });
  }
  if (ok) {
    // A trial encoding finds what only the encoder knows: missing signals, multiplexing, raw ranges.
    try {
      encodeMessage(message, trial);
    } catch (error) {
      if (!(error instanceof EncodeError)) throw error;
      return problem(['signals'], error.message);
    }
  }
  const flags = (message.extended ? FrameFlag.EXTENDED : 0) | (message.fd ? FrameFlag.FD : 0);
  return ok ? { bus, message, flags, values } : undefined;
}

function findMessage(frame: CommandFrameConfig, vehicle: VehicleModel, problem: Problem): { bus: string; message: DbcMessage } | undefined {
  const holders: { bus: string; message: DbcMessage }[] = [];
  for (const binding of vehicle.bindings) {
    for (const db of binding.databases) {
      const message = db.messages.find((m) => m.name === frame.message);
      if (message) {
        holders.push({ bus: binding.bus, message });
        break;
      }
    }
  }
  if (holders.length === 0) return problem(['message'], `no DBC of the vehicle defines message ${frame.message}`);
  if (frame.bus !== undefined) {
    const holder = holders.find((h) => h.bus === frame.bus) ?? holders.find((h) => h.bus === '*');
    if (!holder) return problem(['bus'], `message ${frame.message} is not in the DBC of bus ${frame.bus} (it is on ${holders.map((h) => h.bus).join(', ')})`);
    return { bus: frame.bus, message: holder.message };
  }
  const buses = [...new Set(holders.map((h) => h.bus))];
  if (buses.length === 1 && buses[0] !== '*') return holders[0];
  return problem(['bus'], `message ${frame.message} may go on ${buses.includes('*') ? 'any bus' : `buses ${buses.join(', ')}`}: say which with bus:`);
}

/** A value an argument may take, for the trial encoding. */
function placeholder(arg: CommandArgConfig, signal: DbcSignal): number | string {
  if (arg.default !== undefined) return arg.default;
  if (arg.type === 'text') return arg.values?.[0] ?? signal.labels?.values().next().value ?? 0;
  return arg.min ?? arg.max ?? signal.min ?? 0;
}

function staticValueProblem(message: DbcMessage, signal: DbcSignal, value: number | string): string | undefined {
  let raw: number;
  try {
    raw = rawValueOf(message, signal, value);
  } catch (error) {
    if (error instanceof EncodeError) return error.message;
    throw error;
  }
  if (typeof value === 'string' && signal.labels?.has(raw)) return undefined;
  return rangeProblem(signal, typeof value === 'number' ? value : Number(value));
}

/** `is outside [min|max]` when the DBC gives a range that excludes the physical value. */
function rangeProblem(signal: DbcSignal, value: number): string | undefined {
  const { min, max } = signal;
  if (min === undefined || max === undefined) return undefined;
  const tolerance = Math.abs(signal.factor) / 2;
  if (value < min - tolerance || value > max + tolerance) return `${value} is outside the DBC range [${min}|${max}]`;
  return undefined;
}

/** A request's arguments checked against the command's schema, defaults filled in. */
function resolveArgs(schema: readonly CommandArgConfig[], given: Readonly<Record<string, string>>): Map<string, number | string> {
  for (const name of Object.keys(given)) {
    if (!schema.some((a) => a.name === name)) {
      throw new CommandArgError(`unknown argument ${name}${schema.length > 0 ? ` (arguments: ${schema.map((a) => a.name).join(', ')})` : ' (this command takes none)'}`);
    }
  }
  const out = new Map<string, number | string>();
  for (const arg of schema) {
    const text = Object.hasOwn(given, arg.name) ? given[arg.name] : undefined;
    if (text === undefined) {
      if (arg.default === undefined) throw new CommandArgError(`missing argument ${arg.name}`);
      out.set(arg.name, arg.default);
      continue;
    }
    if (arg.type === 'text') {
      if (arg.values && !arg.values.includes(text)) throw new CommandArgError(`${arg.name}=${text}: must be one of ${arg.values.join(' | ')}`);
      out.set(arg.name, text);
      continue;
    }
    const n = text.trim() === '' ? NaN : Number(text);
    if (!Number.isFinite(n)) throw new CommandArgError(`${arg.name}=${JSON.stringify(text)}: not a number`);
    if (arg.integer && !Number.isInteger(n)) throw new CommandArgError(`${arg.name}=${text}: must be a whole number`);
    if (arg.min !== undefined && n < arg.min) throw new CommandArgError(`${arg.name}=${text}: below the minimum ${arg.min}`);
    if (arg.max !== undefined && n > arg.max) throw new CommandArgError(`${arg.name}=${text}: above the maximum ${arg.max}`);
    out.set(arg.name, n);
  }
  return out;
}

/** VAL_ labels of the DBC signal behind a vehicle signal, as vehicle values (catalog map or scale/offset applied). */
function vehicleLabels(vehicle: VehicleModel, name: string): Map<string, number> | undefined {
  const entry = vehicle.signals.find((s) => s.name === name);
  if (!entry) return undefined;
  const { bus, message, signal } = entry.source;
  for (const binding of vehicle.bindings) {
    if (bus !== undefined && binding.bus !== bus && binding.bus !== '*') continue;
    for (const db of binding.databases) {
      const dbcSignal = db.messages.find((m) => m.name === message)?.signals.find((s) => s.name === signal);
      if (!dbcSignal) continue;
      const labels = new Map<string, number>();
      for (const [raw, label] of dbcSignal.labels ?? []) {
        const physical = raw * dbcSignal.factor + dbcSignal.offset;
        const mapped = entry.map ? (entry.map.get(physical) ?? entry.mapDefault ?? physical) : physical * entry.scale + entry.offset;
        labels.set(label, mapped);
      }
      return labels;
    }
  }
  return undefined;
}
