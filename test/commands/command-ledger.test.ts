/**
 * The command ledger on a real SQLite store: one state key per remembered command (a change writes
 * that entry alone, whatever the ledger holds), a ledger saved in the former single key converted at
 * start, expired entries dropped from the file.
 */
import { describe, expect, it } from 'vitest';
import { CommandLedger, LEDGER_STATE_KEY } from '../../agent/commands/command-ledger.js';
import { openTestStore } from '../uplink/fixtures.js';

const NOW = Date.UTC(2026, 5, 1);
const interrupted = () => Uint8Array.of(9);

describe('command ledger', () => {
  it('keeps each command under its own key: a burst writes one small entry per change', () => {
    const t = openTestStore();
    try {
      const ledger = new CommandLedger(t.store, NOW, interrupted);
      for (let i = 0; i < 500; i++) {
        ledger.begin({ id: `c${i}`, nonce: `n${i}`, name: 'horn', keepUntilMs: NOW + 60_000 });
        ledger.finish(`c${i}`, Uint8Array.of(1, 2, 3));
      }
      const rows = t.store.statesWithPrefix(`${LEDGER_STATE_KEY}/`);
      expect(rows).toHaveLength(500);
      expect(Math.max(...rows.map(([, v]) => v.length))).toBeLessThan(200);
      const again = new CommandLedger(t.store, NOW + 1, interrupted);
      expect(again.size).toBe(500);
      expect(again.nonceSeen('n499')).toBe(true);
      expect([...again.find('c7')!.result!]).toEqual([1, 2, 3]);
      // Past their time: gone from memory and from the file.
      again.prune(NOW + 60_000);
      expect(again.size).toBe(0);
      expect(t.store.statesWithPrefix(`${LEDGER_STATE_KEY}/`)).toEqual([]);
    } finally {
      t.dispose();
    }
  });

  it('converts a ledger saved in one key, fails the commands that were running, drops expired ones', () => {
    const t = openTestStore();
    try {
      const entries = [
        { id: 'done', nonce: 'a', name: 'horn', until: NOW + 1000, result: Buffer.from([5]).toString('base64') },
        { id: 'running', nonce: 'b', name: 'door_lock', until: NOW + 1000 },
        { id: 'old', nonce: 'c', name: 'horn', until: NOW - 1 },
      ];
      t.store.putState(LEDGER_STATE_KEY, Buffer.from(JSON.stringify({ entries })));
      const ledger = new CommandLedger(t.store, NOW, interrupted);
      expect(ledger.size).toBe(2);
      expect([...ledger.find('running')!.result!]).toEqual([9]);
      expect(ledger.find('old')).toBeUndefined();
      expect(t.store.getState(LEDGER_STATE_KEY)).toBeUndefined();
      expect(t.store.statesWithPrefix(`${LEDGER_STATE_KEY}/`).map(([k]) => k).sort()).toEqual([`${LEDGER_STATE_KEY}/done`, `${LEDGER_STATE_KEY}/running`]);
      t.store.putState(`${LEDGER_STATE_KEY}/bad`, Buffer.from('{not json'));
      expect(() => new CommandLedger(t.store, NOW, interrupted)).toThrow(/command ledger \(state commands.ledger\) is unreadable/);
    } finally {
      t.dispose();
    }
  });
});
