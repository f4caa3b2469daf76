/**
 * loadConfig(path): reads the YAML (or JSON) config file, checks every section and returns the typed
 * Config, or throws one ConfigError listing every problem with `file:line: key.path: reason`.
 * Checks that need more than the configuration itself (compiling rule expressions and command
 * conditions) are passed in by the caller (agent/runtime/agent-config.ts), so this folder stays a leaf.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { ConfigError, type ConfigIssue, type PathSegment } from './config-error.js';
import { rootReader, type ReadContext } from './config-reader.js';
import { readConfig, type Config } from './config.js';

/** A check run on the parsed config; each problem names the key path it is about. */
export type ConfigCheck = (config: Config) => Iterable<{ path: readonly PathSegment[]; message: string }>;

export function loadConfig(path: string, checks: readonly ConfigCheck[] = []): Config {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([{ path: '', message: `cannot read the config file: ${(error as Error).message}` }], file);
  }
  return parseConfig(text, { file, baseDir: dirname(file) }, checks);
}

/** Checks a config held in memory; relative paths resolve against `baseDir`. */
export function parseConfig(text: string, source: { file?: string; baseDir: string }, checks: readonly ConfigCheck[] = []): Config {
  const lineCounter = new LineCounter();
  // JSON is YAML too, so both go through the same parser and both get line numbers.
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntax: ConfigIssue[] = document.errors.map((error) => ({
    path: '',
    message: error.message.split('\n')[0],
    line: lineCounter.linePos(error.pos[0]).line,
  }));
  if (syntax.length > 0) throw new ConfigError(syntax, source.file);

  const context: ReadContext = {
    issues: [],
    baseDir: source.baseDir,
    lineOf: (path) => lineOf(document, lineCounter, path),
  };
  const root = rootReader(document.toJS({ maxAliasCount: 100 }), context);
  const config = root ? readConfig(root, source.file ?? '') : undefined;
  if (root && config) {
    for (const check of checks) {
      for (const issue of check(config)) {
        let node = root.node;
        for (const segment of issue.path) node = node.child(segment);
        node.problem(issue.message);
      }
    }
  }
  if (context.issues.length > 0 || !config) {
    const issues = [...context.issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    throw new ConfigError(issues, source.file);
  }
  return config;
}

/** Line of the node at `path`, or of the closest parent that exists. */
function lineOf(document: Document, lineCounter: LineCounter, path: readonly PathSegment[]): number | undefined {
  for (let length = path.length; length >= 0; length--) {
    const node = document.getIn(path.slice(0, length), true);
    if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}
