/**
 * Entry points for loading DBC files: lenient (real files are often slightly broken, each problem is
 * a warning {file, line, reason}); a file that cannot be used at all throws one DbcError.
 */
import { readFileSync } from 'node:fs';
import { readCachedDbc, writeCachedDbc } from './dbc-cache.js';
import { buildDatabase } from './dbc-model.js';
import { DbcStatementParser } from './dbc-parser.js';
import { decodeDbcBytes } from './dbc-text.js';
import { DbcError, type DbcLoadResult, type DbcWarning } from './dbc-types.js';

export { DbcError, formatWarning } from './dbc-types.js';
export type { DbcDatabase, DbcLoadResult, DbcMessage, DbcSignal, DbcWarning } from './dbc-types.js';

/** Parses DBC text; `fileName` names the source in warnings and errors. */
export function parseDbc(text: string, fileName: string): DbcLoadResult {
  const warnings: DbcWarning[] = [];
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    const line = text.slice(0, nul).split('\n').length;
    throw new DbcError(fileName, line, 'binary data (NUL byte): not a DBC text file');
  }
  const raw = new DbcStatementParser(text, fileName, warnings).parse();
  const db = buildDatabase(raw, fileName, warnings);
  warnings.sort((a, b) => a.line - b.line);
  return { db, warnings };
}

export interface LoadDbcOptions {
  /** Keep parsed models in this directory (dbc-cache.ts) and reuse them for the same bytes. */
  cacheDir?: string;
}

/** Reads and parses a DBC file (UTF-8, or cp1252 when the bytes are not valid UTF-8). */
export function loadDbcFile(path: string, options: LoadDbcOptions = {}): DbcLoadResult {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new DbcError(path, 0, `cannot read DBC file: ${reason}`);
  }
  const { cacheDir } = options;
  if (cacheDir === undefined) return parseDbc(decodeDbcBytes(bytes).text, path);
  const cached = readCachedDbc(cacheDir, bytes, path);
  if (cached) return cached;
  const result = parseDbc(decodeDbcBytes(bytes).text, path);
  writeCachedDbc(cacheDir, bytes, result);
  return result;
}
