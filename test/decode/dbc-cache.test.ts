import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheEntryPath, defaultCacheDir, MAX_ENTRIES } from '../../agent/decode/dbc-cache.js';
import { loadDbcFile } from '../../agent/decode/dbc-loader.js';
import { corpusFile } from '../helpers/corpus.js';

const hyundai = corpusFile('dbc/opendbc/hyundai_can.dbc'); // has warnings: they are cached too
const vehicle = join(import.meta.dirname, '..', 'fixtures', 'dbc', 'vehicle.dbc');

describe('DBC cache', () => {
  let dir: string;
  let cacheDir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'roadlink-dbc-cache-'));
    cacheDir = join(dir, 'cache');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const entries = () => readdirSync(cacheDir).filter((f) => f.endsWith('.dbcv8'));

  it('stores a parsed file and gives back the same result, with the path of the file being loaded', () => {
    const parsed = loadDbcFile(hyundai);
    expect(parsed.warnings.length).toBeGreaterThan(0);
    expect(loadDbcFile(hyundai, { cacheDir })).toEqual(parsed); // a miss: parsed, then stored
    expect(entries()).toHaveLength(1);

    const copy = join(dir, 'same-bytes.dbc');
    copyFileSync(hyundai, copy);
    const cached = loadDbcFile(copy, { cacheDir });
    expect(entries()).toHaveLength(1); // same bytes, same entry
    expect(cached.db.fileName).toBe(copy);
    expect(new Set(cached.warnings.map((w) => w.file))).toEqual(new Set([copy]));
    expect(cached).toEqual(loadDbcFile(copy));
  });

  it('really reads the entry: what the entry says is what a load returns', () => {
    loadDbcFile(vehicle, { cacheDir });
    const entry = cacheEntryPath(cacheDir, readFileSync(vehicle));
    const result = loadDbcFile(vehicle);
    result.db.messages[0].name = 'FromTheCache';
    writeFileSync(entry, serialize(result));
    expect(loadDbcFile(vehicle, { cacheDir }).db.messages[0].name).toBe('FromTheCache');
  });

  it('parses an edited file again (the entry is named by the bytes)', () => {
    const file = join(dir, 'edited.dbc');
    copyFileSync(vehicle, file);
    const before = loadDbcFile(file, { cacheDir });
    writeFileSync(file, readFileSync(file, 'utf8').replace('BO_ 1536 Gear:', 'BO_ 1536 GearBox:'));
    const after = loadDbcFile(file, { cacheDir });
    expect(before.db.messages.map((m) => m.name)).toContain('Gear');
    expect(after.db.messages.map((m) => m.name)).toContain('GearBox');
    expect(entries()).toHaveLength(2);
  });

  it('parses again over a corrupt or truncated entry, and replaces it with a good one', () => {
    const expected = loadDbcFile(vehicle);
    loadDbcFile(vehicle, { cacheDir });
    const entry = cacheEntryPath(cacheDir, readFileSync(vehicle));
    const good = readFileSync(entry);
    for (const bad of [Buffer.from('not a v8 serialisation'), good.subarray(0, good.length >> 1), Buffer.alloc(0), serialize({ db: 1 }), serialize({ db: { messages: [] }, warnings: [7] })]) {
      writeFileSync(entry, bad);
      expect(loadDbcFile(vehicle, { cacheDir })).toEqual(expected);
      expect(readFileSync(entry).equals(good)).toBe(true);
    }
  });

  it('loads when the cache directory cannot be made (a file in its place), and throws nothing', () => {
    writeFileSync(cacheDir, 'a file, not a directory');
    expect(loadDbcFile(vehicle, { cacheDir })).toEqual(loadDbcFile(vehicle));
    expect(readFileSync(cacheDir, 'utf8')).toBe('a file, not a directory');
  });

  it(`keeps the ${MAX_ENTRIES} newest entries`, () => {
    const text = readFileSync(vehicle, 'utf8');
    const first = join(dir, 'v0.dbc');
    const start = Date.now() / 1000 - 3600;
    for (let i = 0; i <= MAX_ENTRIES; i++) {
      const file = join(dir, `v${i}.dbc`);
      writeFileSync(file, `${text}\nCM_ "version ${i}";\n`);
      loadDbcFile(file, { cacheDir });
      // File times are coarse (several entries could share one): give each its own second.
      const entry = cacheEntryPath(cacheDir, readFileSync(file));
      utimesSync(entry, start + i, start + i);
    }
    expect(entries()).toHaveLength(MAX_ENTRIES);
    expect(entries()).not.toContain(cacheEntryPath(cacheDir, readFileSync(first)).split('/').pop());
  });

  it('lives in $ROADLINK_CACHE_DIR, the systemd CacheDirectory, $XDG_CACHE_HOME/roadlink or ~/.cache/roadlink', () => {
    expect(defaultCacheDir({ ROADLINK_CACHE_DIR: '/a', CACHE_DIRECTORY: '/b', XDG_CACHE_HOME: '/c', HOME: '/h' })).toBe('/a');
    expect(defaultCacheDir({ CACHE_DIRECTORY: '/var/cache/roadlink:/other', XDG_CACHE_HOME: '/c' })).toBe('/var/cache/roadlink');
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/c' })).toBe('/c/roadlink');
    expect(defaultCacheDir({})).toMatch(/\/\.cache\/roadlink$/);
  });
});
