/**
 * The roadlink.v1 schema and its generated code: the committed code matches the .proto files, field
 * numbers are never changed or reused (proto/fields.lock.json), 64-bit fields are numbers, unknown
 * fields survive, and the generated SampleBatch agrees with the store's hand-written chunk codec.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fieldSignatures, generate, loadSchema, lockFile } from '../../proto/generate.mjs';
import { Checkin, Event, Priority, SampleBatch, SignedCommand } from '../../proto/gen/roadlink.js';
import { decodeSampleChunk, SampleChunkEncoder } from '../../wire/sample-chunk.js';

const genDir = join(import.meta.dirname, '../../proto/gen');

describe('proto/gen', () => {
  it('is what proto/generate.mjs makes from the current .proto files (run it after editing them)', () => {
    const out = mkdtempSync(join(tmpdir(), 'roadlink-gen-'));
    try {
      generate(out);
      const files = readdirSync(out).sort();
      expect(readdirSync(genDir).sort()).toEqual(files);
      for (const f of files) {
        const fresh = readFileSync(join(out, f), 'utf8');
        const committed = readFileSync(join(genDir, f), 'utf8');
        expect(committed === fresh, `proto/gen/${f} is stale: run node proto/generate.mjs`).toBe(true);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('schema compatibility (proto/fields.lock.json)', () => {
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as Record<string, string>;
  const root = loadSchema();
  const current = fieldSignatures(root) as Record<string, string>;
  const owner = (key: string) => key.slice(0, key.lastIndexOf('.'));
  const number = (signature: string) => Number(signature.split(' ')[0]);

  it('keeps every locked field as it was, or reserves its number when it is removed', () => {
    const problems: string[] = [];
    for (const [key, signature] of Object.entries(lock)) {
      if (key in current) {
        if (current[key] !== signature) problems.push(`${key} changed from "${signature}" to "${current[key]}"`);
        continue;
      }
      const type = root.lookup(owner(key)) as { reserved?: (number[] | string)[] | null } | null;
      const reserved = (type?.reserved ?? []).some(
        (r) => Array.isArray(r) && r[0] <= number(signature) && number(signature) <= r[1],
      );
      if (!reserved) problems.push(`${key} (${signature}) was removed without "reserved ${number(signature)};"`);
    }
    expect(problems).toEqual([]);
  });

  it('locks every field in use (run node proto/generate.mjs) and reuses no number of a removed field', () => {
    const problems: string[] = [];
    for (const [key, signature] of Object.entries(current)) {
      if (!(key in lock)) problems.push(`${key} is not in fields.lock.json`);
      for (const [locked, was] of Object.entries(lock)) {
        if (locked !== key && owner(locked) === owner(key) && number(was) === number(signature) && !(locked in current)) {
          problems.push(`${key} reuses number ${number(signature)} of removed ${locked}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('generated code', () => {
  it('reads 64-bit fields as numbers', () => {
    const bytes = Event.encode({ seq: 2 ** 40 + 7, timeMs: 1_767_225_600_123, priority: Priority.PRIORITY_HIGH, alert: { code: 'oil_pressure', active: true } }).finish();
    const event = Event.decode(bytes);
    expect(event.seq).toBe(2 ** 40 + 7);
    expect(event.timeMs).toBe(1_767_225_600_123);
    expect(event.kind).toBe('alert');
    expect(event.alert?.code).toBe('oil_pressure');
  });

  it('keeps fields it does not know and writes them back (a newer sender through older code)', () => {
    const known = Checkin.encode({ vin: 'WVWZZZ1JZXW000001', rulesVersion: 3 }).finish();
    // Field 1000 (length-delimited "v2") and field 1001 (varint 150): unknown to v1.
    const unknown = Uint8Array.from([0xc2, 0x3e, 0x02, 0x76, 0x32, 0xc8, 0x3e, 0x96, 0x01]);
    const newer = Buffer.concat([known, unknown]);
    const decoded = Checkin.decode(newer);
    expect(decoded.vin).toBe('WVWZZZ1JZXW000001');
    expect(Buffer.from(Checkin.encode(decoded).finish())).toEqual(newer);
  });

  it('nests a signed request as bytes', () => {
    const request = Uint8Array.from([1, 2, 3, 250]);
    const signed = SignedCommand.decode(SignedCommand.encode({ request, signature: new Uint8Array(64).fill(9), keyId: 'ops-1' }).finish());
    expect(Buffer.from(signed.request)).toEqual(Buffer.from(request));
    expect(signed.signature.length).toBe(64);
  });
});

describe('SampleBatch: generated code and wire/sample-chunk.ts agree', () => {
  // Two signals, 10 ms and 100 ms periods, one with a negative and one with a > 2^31 raw value.
  const signal = Uint32Array.from([4, 9, 4, 4, 9, 4]);
  const timeMs = Float64Array.from([1_000_000, 1_000_005, 1_000_010, 1_000_020, 1_000_105, 1_000_030]);
  const raw = Float64Array.from([-5, 2 ** 33, -5, -4, 2 ** 33 + 1, 120]);

  it('decodes a store chunk with the generated decoder', () => {
    const bytes = new SampleChunkEncoder().encodeArrivals({ firstSeq: 500, priority: Priority.PRIORITY_NORMAL, rule: 'base' }, 6, signal, timeMs, raw);
    const batch = SampleBatch.decode(bytes);
    expect(batch.firstSeq).toBe(500);
    expect(batch.sampleCount).toBe(6);
    expect(batch.rule).toBe('base');
    const rebuilt: [number, number, number][] = [];
    for (const column of batch.columns) {
      let t = batch.baseTimeMs;
      let d = 0;
      let v = 0;
      column.timeDod!.forEach((dod, i) => {
        d = i === 0 ? dod : d + dod;
        t += i === 0 ? dod : d;
        v += column.valueDelta![i];
        rebuilt.push([column.signalId ?? 0, t, v]);
      });
    }
    const expected = [...signal].map((s, i) => [s, timeMs[i], raw[i]] as [number, number, number]);
    const bySignalThenTime = (a: number[], b: number[]) => a[0] - b[0] || a[1] - b[1];
    expect(rebuilt.sort(bySignalThenTime)).toEqual(expected.sort(bySignalThenTime));
  });

  it('decodes a generated SampleBatch with the store decoder', () => {
    const bytes = SampleBatch.encode({
      firstSeq: 77,
      sampleCount: 3,
      baseTimeMs: 2_000,
      columns: [{ signalId: 2, timeDod: [0, 10, 0], valueDelta: [7, 1, -3] }],
    }).finish();
    const { header, columns } = decodeSampleChunk(bytes);
    expect(header.firstSeq).toBe(77);
    expect([...columns.timeMs]).toEqual([2_000, 2_010, 2_020]);
    expect([...columns.raw]).toEqual([7, 8, 5]);
  });
});
