/**
 * The persistent memory of accepted commands: id → nonce, how long to remember it, and the final
 * CommandResponse once there is one. It refuses replays across restarts (a nonce seen before) and
 * lets a repeated id get the first result instead of running again.
 *
 * Each entry is one key of the store's state table, `commands.ledger/<id>` (agent/store/store.ts
 * putState/getState, committed on return), as JSON: a change writes that entry alone, so a burst of
 * commands costs the same per command whatever the ledger holds (the whole ledger in one key, as
 * before, rewrote hundreds of KB per command in a burst of a thousand; such a key is still read and
 * converted at start). An entry is written BEFORE the command reaches the bus, so a crash cannot open
 * a window for a replay. Entries are dropped once past `keepUntilMs` (the command's expiry + clock
 * skew + remember time): by then a replay is refused as expired anyway. An entry found without a
 * result at start belongs to a command that was running when the agent stopped; it gets a FAILED
 * 'interrupted' result (whether the ECU acted is unknown).
 */

/** The part of the Store the ledger (and the rules updater) uses. */
export interface StateStore {
  putState(key: string, value: Uint8Array): void;
  getState(key: string): Uint8Array | undefined;
  deleteState(key: string): void;
  /** Every [key, value] whose key starts with `prefix`. */
  statesWithPrefix(prefix: string): [string, Uint8Array][];
}

export interface LedgerEntry {
  id: string;
  /** base64 of the nonce. */
  nonce: string;
  name: string;
  keepUntilMs: number;
  /** The final CommandResponse (bytes), once known. */
  result?: Uint8Array;
}

interface StoredEntry {
  id: string;
  nonce: string;
  name: string;
  until: number;
  result?: string;
}

export const LEDGER_STATE_KEY = 'commands.ledger';

export class CommandLedger {
  private readonly byId = new Map<string, LedgerEntry>();
  private readonly nonces = new Set<string>();

  /**
   * Loads what was remembered; `interrupted(entry)` gives the result of an entry that has none.
   * Throws when the stored state cannot be read (the caller must not run commands without it).
   */
  constructor(
    private readonly store: StateStore,
    nowMs: number,
    interrupted: (entry: LedgerEntry) => Uint8Array,
    private readonly key = LEDGER_STATE_KEY,
  ) {
    const legacy = store.getState(key);
    let stored: StoredEntry[];
    try {
      stored = store.statesWithPrefix(`${key}/`).map(([, bytes]) => JSON.parse(Buffer.from(bytes).toString('utf8')) as StoredEntry);
      if (legacy !== undefined) {
        const entries = (JSON.parse(Buffer.from(legacy).toString('utf8')) as { entries: StoredEntry[] }).entries;
        if (!Array.isArray(entries)) throw new Error('no entries list');
        stored.push(...entries);
      }
    } catch (error) {
      throw new Error(`command ledger (state ${key}) is unreadable: ${(error as Error).message}`);
    }
    for (const s of stored) {
      const entry: LedgerEntry = { id: s.id, nonce: s.nonce, name: s.name, keepUntilMs: s.until };
      if (!(s.until > nowMs)) {
        this.store.deleteState(this.entryKey(entry.id));
        continue;
      }
      if (s.result !== undefined) entry.result = Buffer.from(s.result, 'base64');
      else entry.result = interrupted(entry);
      this.byId.set(entry.id, entry);
      this.nonces.add(entry.nonce);
      if (s.result === undefined || legacy !== undefined) this.save(entry);
    }
    if (legacy !== undefined) store.deleteState(key);
  }

  get size(): number {
    return this.byId.size;
  }

  find(id: string): LedgerEntry | undefined {
    return this.byId.get(id);
  }

  nonceSeen(nonce: string): boolean {
    return this.nonces.has(nonce);
  }

  /** Forgets entries past their time (in memory at once, in the store as far as it can). */
  prune(nowMs: number): void {
    for (const entry of this.byId.values()) {
      if (entry.keepUntilMs <= nowMs) {
        this.byId.delete(entry.id);
        this.nonces.delete(entry.nonce);
        try {
          this.store.deleteState(this.entryKey(entry.id));
        } catch {
          // dropped again at the next start: past its time, it is not loaded
        }
      }
    }
  }

  /** Remembers an accepted command durably; throws (and remembers nothing) when the store fails. */
  begin(entry: Omit<LedgerEntry, 'result'>): void {
    const remembered = { ...entry };
    this.byId.set(entry.id, remembered);
    this.nonces.add(entry.nonce);
    try {
      this.save(remembered);
    } catch (error) {
      this.byId.delete(entry.id);
      this.nonces.delete(entry.nonce);
      throw error;
    }
  }

  /** Records the final response; throws when the store fails (the result stays in memory). */
  finish(id: string, result: Uint8Array): void {
    const entry = this.byId.get(id);
    if (!entry) return;
    entry.result = result;
    this.save(entry);
  }

  private entryKey(id: string): string {
    return `${this.key}/${id}`;
  }

  private save(e: LedgerEntry): void {
    const stored: StoredEntry = { id: e.id, nonce: e.nonce, name: e.name, until: e.keepUntilMs, ...(e.result ? { result: Buffer.from(e.result).toString('base64') } : {}) };
    this.store.putState(this.entryKey(e.id), Buffer.from(JSON.stringify(stored), 'utf8'));
  }
}
