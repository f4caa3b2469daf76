/**
 * A disk cache of parsed DBC files. Parsing a real DBC is most of a short decode's time (the 93 KB
 * hyundai_can.dbc takes ~80 ms cold; its cached model loads in ~13 ms), and users decode with the
 * same few DBC files all day.
 *
 * An entry is the load result serialised with v8.serialize, named by a SHA-256 of the DBC's bytes,
 * the parser's own code and the V8 version: an edited DBC, a changed parser or another Node gives
 * another name, so an entry is never stale. Entries hold no paths (the caller's path is put back
 * on load, as the same bytes may sit in several files). Every cache failure (unwritable directory,
 * corrupt or truncated entry) falls back to parsing: the cache only ever saves time.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import type { DbcLoadResult } from './dbc-types.js';

/** The modules whose code shapes a load result (their compiled .js next to this file). */
const PARSER_MODULES = ['dbc-cache', 'dbc-loader', 'dbc-model', 'dbc-parser', 'dbc-text', 'dbc-tokenizer', 'bit-layout'];
/** Entries kept; the oldest beyond this are removed when a new one is written. */
export const MAX_ENTRIES = 64;
/** Marks where the DBC's path was in an entry. */
const PATH_PLACEHOLDER = '';

let parserDigest: string | undefined;

/** SHA-256 of the parser's compiled code and the V8 version (computed once per process). */
function parserCodeDigest(): string {
  if (parserDigest === undefined) {
    const hash = createHash('sha256').update(process.versions.v8);
    const here = dirname(fileURLToPath(import.meta.url));
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    for (const name of PARSER_MODULES) hash.update(readFileSync(join(here, name + ext)));
    parserDigest = hash.digest('hex');
  }
  return parserDigest;
}

/** The entry file for DBC bytes. */
export function cacheEntryPath(cacheDir: string, bytes: Uint8Array): string {
  const key = createHash('sha256').update(parserCodeDigest()).update(bytes).digest('hex');
  return join(cacheDir, `${key.slice(0, 40)}.dbcv8`);
}

/**
 * Where DBC models are cached by default: $ROADLINK_CACHE_DIR, the systemd unit's CacheDirectory
 * ($CACHE_DIRECTORY), $XDG_CACHE_HOME/roadlink, else ~/.cache/roadlink.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ROADLINK_CACHE_DIR) return env.ROADLINK_CACHE_DIR;
  const systemd = env.CACHE_DIRECTORY?.split(':')[0];
  if (systemd) return systemd;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'roadlink');
  return join(homedir(), '.cache', 'roadlink');
}

/** The cached load result of these DBC bytes, with `path` put back; undefined when there is none usable. */
export function readCachedDbc(cacheDir: string, bytes: Uint8Array, path: string): DbcLoadResult | undefined {
  try {
    const result = deserialize(readFileSync(cacheEntryPath(cacheDir, bytes))) as DbcLoadResult;
    if (!Array.isArray(result?.db?.messages) || !Array.isArray(result.warnings)) return undefined;
    result.db.fileName = path;
    for (const w of result.warnings) w.file = path;
    return result;
  } catch {
    return undefined; // missing, unreadable or corrupt: parse instead (and write a good entry)
  }
}

/** Stores a load result for these DBC bytes (atomically: a reader sees the whole entry or none). Never throws. */
export function writeCachedDbc(cacheDir: string, bytes: Uint8Array, result: DbcLoadResult): void {
  try {
    const entry = cacheEntryPath(cacheDir, bytes);
    const stored: DbcLoadResult = {
      db: { ...result.db, fileName: PATH_PLACEHOLDER },
      warnings: result.warnings.map((w) => ({ ...w, file: PATH_PLACEHOLDER })),
    };
    mkdirSync(cacheDir, { recursive: true });
    const temp = `${entry}.${process.pid}.tmp`;
    writeFileSync(temp, serialize(stored));
    renameSync(temp, entry);
    pruneCache(cacheDir, entry);
  } catch {
    // read-only file system, full disk, no home: the next load parses again
  }
}

/** Removes the oldest entries beyond MAX_ENTRIES (never `newest`, the one just written). */
function pruneCache(cacheDir: string, newest: string): void {
  const entries = readdirSync(cacheDir)
    .filter((f) => f.endsWith('.dbcv8'))
    .map((f) => join(cacheDir, f));
  if (entries.length <= MAX_ENTRIES) return;
  const byAge = entries.filter((f) => f !== newest).map((f) => ({ f, t: statSync(f).mtimeMs }));
  byAge.sort((a, b) => a.t - b.t);
  for (const { f } of byAge.slice(0, entries.length - MAX_ENTRIES)) unlinkSync(f);
}
