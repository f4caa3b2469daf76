/**
 * Small hand-written helpers that read a parsed config document and record problems instead of
 * throwing, so that one run reports every mistake. A section reader (sections/*.ts, and those that
 * other modules add, e.g. commands) takes an ObjectReader and returns its typed section:
 *
 *   export function readUplink(r: ObjectReader): UplinkConfig {
 *     const config = {
 *       broker: r.string('broker', { required: true, pattern: /^mqtts?:\/\//, hint: 'an mqtt:// or mqtts:// URL' }) ?? '',
 *       keepaliveMs: r.duration('keepalive', { default: 30_000 }),
 *     };
 *     r.done(); // reports keys nobody read (typos), with a "did you mean"
 *     return config;
 *   }
 *
 * Reads of a missing optional key return the default (or undefined); reads of a wrong value record
 * `<path>: <reason>` and return undefined. The caller throws ConfigError when issues were recorded,
 * so placeholder values of a failed read never reach the agent.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { formatPath, type ConfigIssue, type PathSegment } from './config-error.js';
import { closestName, parseByteSize, parseDuration } from './units.js';

export interface ReadContext {
  readonly issues: ConfigIssue[];
  /** Folder that relative paths in the config are resolved against (the config file's folder). */
  readonly baseDir: string;
  /** Line of the value at `path` (or of its closest existing parent) in the source file. */
  lineOf(path: readonly PathSegment[]): number | undefined;
}

/** A context with no source file (values that came as JSON in a rules update, or tests). */
export function plainContext(baseDir = process.cwd()): ReadContext {
  return { issues: [], baseDir, lineOf: () => undefined };
}

interface Common<T> {
  required?: boolean;
  default?: T;
}
export interface StringOptions extends Common<string> {
  pattern?: RegExp;
  /** Describes what the pattern wants, for the message: `must be <hint>`. */
  hint?: string;
}
export interface NumberOptions extends Common<number> {
  min?: number;
  max?: number;
  integer?: boolean;
}
export interface DurationOptions extends Common<number> {
  /** Smallest accepted duration in milliseconds. */
  minMs?: number;
}
export interface PathOptions extends Common<string> {
  /** Check that the path exists (as a file or folder) when the config is loaded. */
  mustExist?: 'file' | 'dir';
  /** A file the agent writes (database, audit log): relative, it lands in stateDir(), not next to the config. */
  state?: boolean;
}

/**
 * Where relative paths of files the agent writes are resolved: systemd's state directory when the
 * agent runs as a service with StateDirectory= (the configuration folder is read-only there), else
 * the configuration file's folder.
 */
export function stateDir(context: ReadContext): string {
  return process.env.STATE_DIRECTORY?.split(':')[0] || context.baseDir;
}

/** One value of the document with its key path. */
export class ValueNode {
  constructor(
    readonly value: unknown,
    readonly keyPath: readonly PathSegment[],
    readonly context: ReadContext,
  ) {}

  get where(): string {
    return formatPath(this.keyPath);
  }

  get present(): boolean {
    return this.value !== undefined && this.value !== null;
  }

  /** Records `<path>: <message>`; returns undefined for `return node.problem(...)`. */
  problem(message: string): undefined {
    this.context.issues.push({ path: this.where, message, line: this.context.lineOf(this.keyPath) });
    return undefined;
  }

  child(key: PathSegment): ValueNode {
    const v = this.value as Record<PathSegment, unknown> | undefined;
    return new ValueNode(v === undefined || v === null ? undefined : v[key], [...this.keyPath, key], this.context);
  }

  string(options: StringOptions & { default: string }): string;
  string(options?: StringOptions): string | undefined;
  string(options: StringOptions = {}): string | undefined {
    if (!this.present) return this.missing(options);
    if (typeof this.value !== 'string') return this.problem(`must be text, got ${describe(this.value)}`);
    if (options.pattern && !options.pattern.test(this.value)) {
      return this.problem(`must be ${options.hint ?? `text matching ${options.pattern}`}, got ${JSON.stringify(this.value)}`);
    }
    return this.value;
  }

  number(options: NumberOptions & { default: number }): number;
  number(options?: NumberOptions): number | undefined;
  number(options: NumberOptions = {}): number | undefined {
    if (!this.present) return this.missing(options);
    const v = this.value;
    if (typeof v !== 'number' || !Number.isFinite(v)) return this.problem(`must be a number, got ${describe(v)}`);
    if (options.integer && !Number.isInteger(v)) return this.problem(`must be a whole number, got ${v}`);
    if (options.min !== undefined && v < options.min) return this.problem(`must be >= ${options.min}, got ${v}`);
    if (options.max !== undefined && v > options.max) return this.problem(`must be <= ${options.max}, got ${v}`);
    return v;
  }

  boolean(options: Common<boolean> & { default: boolean }): boolean;
  boolean(options?: Common<boolean>): boolean | undefined;
  boolean(options: Common<boolean> = {}): boolean | undefined {
    if (!this.present) return this.missing(options);
    if (typeof this.value !== 'boolean') return this.problem(`must be true or false, got ${describe(this.value)}`);
    return this.value;
  }

  oneOf<C extends string>(choices: readonly C[], options: Common<C> & { default: C }): C;
  oneOf<C extends string>(choices: readonly C[], options?: Common<C>): C | undefined;
  oneOf<C extends string>(choices: readonly C[], options: Common<C> = {}): C | undefined {
    if (!this.present) return this.missing(options);
    if (typeof this.value === 'string' && (choices as readonly string[]).includes(this.value)) return this.value as C;
    return this.problem(`must be one of ${choices.join(' | ')}, got ${describe(this.value)}`);
  }

  /** A duration written "10s", "500ms", "2m", "1h" → milliseconds. */
  duration(options: DurationOptions & { default: number }): number;
  duration(options?: DurationOptions): number | undefined;
  duration(options: DurationOptions = {}): number | undefined {
    if (!this.present) return this.missing(options);
    const ms = typeof this.value === 'string' ? parseDuration(this.value) : undefined;
    if (ms === undefined) return this.problem(`must be a duration like "10s" or "500ms", got ${describe(this.value)}`);
    if (options.minMs !== undefined && ms < options.minMs) return this.problem(`must be at least ${options.minMs} ms, got ${JSON.stringify(this.value)}`);
    return ms;
  }

  /** A size written "200MB", "64KiB" or a number of bytes → bytes. */
  byteSize(options: NumberOptions & { default: number }): number;
  byteSize(options?: NumberOptions): number | undefined;
  byteSize(options: NumberOptions = {}): number | undefined {
    if (!this.present) return this.missing(options);
    const v = this.value;
    const bytes = typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : typeof v === 'string' ? parseByteSize(v) : undefined;
    if (bytes === undefined) return this.problem(`must be a size like "200MB", "64KiB" or a number of bytes, got ${describe(v)}`);
    if (options.min !== undefined && bytes < options.min) return this.problem(`must be at least ${options.min} bytes, got ${describe(v)}`);
    if (options.max !== undefined && bytes > options.max) return this.problem(`must be at most ${options.max} bytes, got ${describe(v)}`);
    return bytes;
  }

  /** A file or folder path, relative to the config file's folder → absolute path. */
  path(options: PathOptions & { default: string }): string;
  path(options?: PathOptions): string | undefined;
  path(options: PathOptions = {}): string | undefined {
    const text = this.string({ required: options.required });
    const raw = text ?? (this.present ? undefined : options.default);
    if (raw === undefined) return undefined;
    if (raw.length === 0) return this.problem('must be a path, got an empty text');
    const absolute = isAbsolute(raw) ? raw : resolve(options.state ? stateDir(this.context) : this.context.baseDir, raw);
    if (options.mustExist) {
      if (!existsSync(absolute)) return this.problem(`${options.mustExist} not found: ${absolute}`);
      const isDir = statSync(absolute).isDirectory();
      if (isDir !== (options.mustExist === 'dir')) return this.problem(`must be a ${options.mustExist}: ${absolute}`);
    }
    return absolute;
  }

  /** A mapping → ObjectReader (undefined, with a problem, when it is something else). */
  object(options: { required?: boolean } = {}): ObjectReader | undefined {
    if (!this.present) {
      if (options.required) this.problem('is required');
      return undefined;
    }
    if (typeof this.value !== 'object' || Array.isArray(this.value)) return this.problem(`must be a mapping of keys, got ${describe(this.value)}`);
    return new ObjectReader(this);
  }

  /** A list; `read` is called per item (it records its own problems and returns undefined on failure). */
  list<T>(read: (item: ValueNode, index: number) => T | undefined, options: { required?: boolean; minItems?: number } = {}): T[] {
    if (!this.present) {
      if (options.required) this.problem('is required');
      return [];
    }
    if (!Array.isArray(this.value)) {
      this.problem(`must be a list, got ${describe(this.value)}`);
      return [];
    }
    if (options.minItems !== undefined && this.value.length < options.minItems) {
      this.problem(`must have at least ${options.minItems} item${options.minItems === 1 ? '' : 's'}, got ${this.value.length}`);
    }
    const out: T[] = [];
    this.value.forEach((_, index) => {
      const item = read(this.child(index), index);
      if (item !== undefined) out.push(item);
    });
    return out;
  }

  /** A mapping read as name → item (the names are the caller's, e.g. signal names). */
  entries<T>(read: (item: ValueNode, key: string) => T | undefined, options: { required?: boolean } = {}): [string, T][] {
    const reader = this.object(options);
    if (!reader) return [];
    const out: [string, T][] = [];
    for (const key of reader.keys()) {
      const item = read(reader.get(key), key);
      if (item !== undefined) out.push([key, item]);
    }
    return out;
  }

  private missing<T>(options: Common<T>): T | undefined {
    if (options.required && options.default === undefined) return this.problem('is required');
    return options.default;
  }
}

/** Reads the keys of one mapping; `done()` reports the keys nobody read. */
export class ObjectReader {
  private readonly read = new Set<string>();
  private readonly record: Record<string, unknown>;

  constructor(readonly node: ValueNode) {
    this.record = node.value as Record<string, unknown>;
  }

  get context(): ReadContext {
    return this.node.context;
  }

  keys(): string[] {
    const keys = Object.keys(this.record);
    for (const key of keys) this.read.add(key);
    return keys;
  }

  has(key: string): boolean {
    return this.record[key] !== undefined && this.record[key] !== null;
  }

  /** The value at `key` (marks the key as known). */
  get(key: string): ValueNode {
    this.read.add(key);
    return this.node.child(key);
  }

  problem(message: string): undefined {
    return this.node.problem(message);
  }

  string(key: string, options: StringOptions & { default: string }): string;
  string(key: string, options?: StringOptions): string | undefined;
  string(key: string, options?: StringOptions): string | undefined {
    return this.get(key).string(options);
  }

  number(key: string, options: NumberOptions & { default: number }): number;
  number(key: string, options?: NumberOptions): number | undefined;
  number(key: string, options?: NumberOptions): number | undefined {
    return this.get(key).number(options);
  }

  boolean(key: string, options: Common<boolean> & { default: boolean }): boolean;
  boolean(key: string, options?: Common<boolean>): boolean | undefined;
  boolean(key: string, options?: Common<boolean>): boolean | undefined {
    return this.get(key).boolean(options);
  }

  oneOf<C extends string>(key: string, choices: readonly C[], options: Common<C> & { default: C }): C;
  oneOf<C extends string>(key: string, choices: readonly C[], options?: Common<C>): C | undefined;
  oneOf<C extends string>(key: string, choices: readonly C[], options?: Common<C>): C | undefined {
    return this.get(key).oneOf(choices, options);
  }

  duration(key: string, options: DurationOptions & { default: number }): number;
  duration(key: string, options?: DurationOptions): number | undefined;
  duration(key: string, options?: DurationOptions): number | undefined {
    return this.get(key).duration(options);
  }

  byteSize(key: string, options: NumberOptions & { default: number }): number;
  byteSize(key: string, options?: NumberOptions): number | undefined;
  byteSize(key: string, options?: NumberOptions): number | undefined {
    return this.get(key).byteSize(options);
  }

  path(key: string, options: PathOptions & { default: string }): string;
  path(key: string, options?: PathOptions): string | undefined;
  path(key: string, options?: PathOptions): string | undefined {
    return this.get(key).path(options);
  }

  object(key: string, options?: { required?: boolean }): ObjectReader | undefined {
    return this.get(key).object(options);
  }

  list<T>(key: string, read: (item: ValueNode, index: number) => T | undefined, options?: { required?: boolean; minItems?: number }): T[] {
    return this.get(key).list(read, options);
  }

  /** Reports every key that no read asked for, suggesting the closest known key. */
  done(known: readonly string[] = []): void {
    const expected = [...this.read, ...known];
    for (const key of Object.keys(this.record)) {
      if (this.read.has(key) || known.includes(key)) continue;
      const suggestion = closestName(key, expected);
      this.node.child(key).problem(`unknown key${suggestion ? ` (did you mean '${suggestion}'?)` : ` (known: ${expected.join(', ')})`}`);
    }
  }
}

/** The root reader of a parsed document. */
export function rootReader(document: unknown, context: ReadContext): ObjectReader | undefined {
  return new ValueNode(document, [], context).object({ required: true });
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}
