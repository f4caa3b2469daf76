/**
 * Files the store cannot use: clear errors naming file and reason; openOrRecover moves corrupt files
 * aside (counted, logged) and never touches files that are merely unusable.
 */
import Database from 'better-sqlite3';
import { existsSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openOrRecover } from '../../agent/store/open-or-recover.js';
import { Store, StoreOpenError } from '../../agent/store/store.js';
import { tempDir, testGrid } from './fixtures.js';
import { Priority } from '../../wire/priority.js';

const T0 = 1_700_000_000_000_000;
const options = (path: string) => ({ path, signalGrid: testGrid });

function openError(path: string): StoreOpenError {
  try {
    Store.open(options(path)).close();
  } catch (err) {
    expect(err).toBeInstanceOf(StoreOpenError);
    return err as StoreOpenError;
  }
  throw new Error(`${path} opened`);
}

describe('unusable store files', () => {
  it('a file of garbage: open names the file and reason; openOrRecover moves it aside and starts empty', () => {
    const dir = tempDir();
    const path = join(dir, 'store.db');
    const garbage = Buffer.from('this is not a database, just text from a broken flash '.repeat(200));
    writeFileSync(path, garbage);
    const err = openError(path);
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/not a database/);
    expect(err.corrupt).toBe(true);

    const logged: string[] = [];
    const store = openOrRecover(options(path), (m) => logged.push(m));
    expect(store.stats()).toMatchObject({ recoveries: 1, storedRows: 0 });
    const epoch = store.epoch;
    expect(epoch).toMatch(/^[A-Za-z0-9_-]{12}$/);
    store.appendRecord('events', Priority.high, T0, Uint8Array.of(1));
    store.close();
    const aside = readdirSync(dir).filter((f) => f.startsWith('store.db.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0]))).toEqual(garbage);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain(path);
    expect(logged[0]).toContain(aside[0]);
    // The fresh store works and remembers its recovery.
    const again = openOrRecover(options(path), (m) => logged.push(m));
    expect(again.stats()).toMatchObject({ recoveries: 1, storedRows: 1 });
    expect(again.epoch).toBe(epoch);
    again.close();
    expect(logged).toHaveLength(1);
  });

  it('a store whose pages were damaged is caught at open by quick_check', () => {
    const dir = tempDir();
    const path = join(dir, 'store.db');
    const store = Store.open(options(path));
    for (let i = 0; i < 200; i++) store.appendRecord('events', Priority.normal, T0 + i, new Uint8Array(300).fill(i));
    store.close();
    const size = statSync(path).size;
    expect(size).toBeGreaterThan(10 * 4096);
    // Scribble over b-tree pages in the middle of the file (a failing flash block).
    const fd = openSync(path, 'r+');
    const junk = Buffer.alloc(4096 * 3, 0xa5);
    writeSync(fd, junk, 0, junk.length, 4096 * 4);
    closeSync(fd);
    const err = openError(path);
    expect(err.corrupt).toBe(true);
    expect(err.message).toContain(path);
    const logged: string[] = [];
    openOrRecover(options(path), (m) => logged.push(m)).close();
    expect(logged[0]).toMatch(/corrupt/);
    expect(readdirSync(dir).filter((f) => f.includes('.corrupt-'))).toHaveLength(1);
  });

  it('unusable but not corrupt files are reported and left alone', () => {
    const dir = tempDir();
    // Missing folder.
    const missing = join(dir, 'no-such-dir', 'store.db');
    expect(() => openOrRecover(options(missing))).toThrow(StoreOpenError);
    expect(openError(missing).corrupt).toBe(false);
    // Another application's SQLite database.
    const foreign = join(dir, 'other.db');
    const db = new Database(foreign);
    db.exec('CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES (\'x\')');
    db.close();
    expect(() => openOrRecover(options(foreign))).toThrow(/not a Roadlink store/);
    // A store written by a newer agent.
    const newer = join(dir, 'newer.db');
    Store.open(options(newer)).close();
    const n = new Database(newer);
    n.pragma('user_version = 99');
    n.close();
    const err = openError(newer);
    expect(err.message).toMatch(/schema version 99 is newer/);
    expect(() => openOrRecover(options(newer))).toThrow(StoreOpenError);
    expect(readdirSync(dir).sort()).toEqual(['newer.db', 'other.db']);
    expect(existsSync(missing)).toBe(false);
  });
});

describe('store epoch', () => {
  it('is made with the file, kept across reopens, and new for the file that replaces a corrupt one', () => {
    const dir = tempDir();
    const path = join(dir, 'store.db');
    const first = Store.open(options(path));
    const epoch = first.epoch;
    expect(epoch).toMatch(/^[A-Za-z0-9_-]{12}$/);
    first.appendRecord('events', Priority.normal, T0, Uint8Array.of(1));
    expect(() => first.putState('store.epoch', Buffer.from('mine'))).toThrow(/belongs to the store/);
    first.close();
    const reopened = Store.open(options(path));
    expect(reopened.epoch).toBe(epoch);
    expect(reopened.nextSeq('events')).toBe(2);
    reopened.close();

    // The file is damaged: openOrRecover starts a new file, whose sequences restart under a new epoch.
    writeFileSync(path, Buffer.from('garbage '.repeat(1000)));
    const recovered = openOrRecover(options(path), () => {});
    expect(recovered.epoch).not.toBe(epoch);
    expect(recovered.nextSeq('events')).toBe(1);
    recovered.close();
    expect(Store.open(options(join(dir, 'other.db'))).epoch).not.toBe(epoch);
  });

  it('is given to a file made before epochs existed, which keeps its sequences', () => {
    const path = join(tempDir(), 'store.db');
    const old = Store.open(options(path));
    old.appendRecord('events', Priority.normal, T0, Uint8Array.of(1));
    old.close();
    const db = new Database(path);
    db.prepare("DELETE FROM state WHERE key = 'store.epoch'").run();
    db.close();
    const store = Store.open(options(path));
    expect(store.epoch).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(store.nextSeq('events')).toBe(2);
    const epoch = store.epoch;
    store.close();
    const again = Store.open(options(path));
    expect(again.epoch).toBe(epoch);
    again.close();
  });
});
