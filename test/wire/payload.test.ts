/**
 * Payload size limit (sample chunks split into contiguous sequence ranges) and deflate, observed on
 * a real mosquitto by a raw subscriber, plus the payload helpers on their own.
 */
import { describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { deflateRawSync } from 'node:zlib';
import { Uplink, type UplinkOptions } from '../../agent/uplink/uplink.js';
import { Receiver } from '../../backend/receiver.js';
import mqttPacket from 'mqtt-packet';
import { DOWNLINK_MAX_BYTES, ENCODING_PROPERTY_BYTES, pack, PayloadError, unpack, userProperty } from '../../wire/payload.js';
import { RowPayloader } from '../../agent/uplink/row-payloads.js';
import { decodeSampleChunk } from '../../wire/sample-chunk.js';
import { brokerForSuite, fillSamples, lineCollector, missingOrWrong, openTestStore, receivedSamples, SIGNALS, VIN_A, waitFor } from '../uplink/fixtures.js';

const quiet = () => undefined;

describe('payload size and compression on the wire', () => {
  const suite = brokerForSuite();
  const cleanups = suite.cleanups;

  /** Uploads `count` samples committed as ONE chunk; returns what a raw subscriber and the receiver saw. */
  async function upload(count: number, options: Partial<UplinkOptions>) {
    const t = openTestStore();
    cleanups.push(t.dispose);
    const sent = fillSamples(t.store, count, count);
    expect(t.store.stats().storedRows).toBe(1);

    const raw: { size: number; encoding?: string }[] = [];
    const observer = await mqtt.connectAsync(suite.broker.url, { protocolVersion: 5, clientId: `observer-${Math.random()}` });
    cleanups.push(() => observer.endAsync());
    observer.on('message', (_topic, payload, packet) =>
      raw.push({ size: payload.length, encoding: userProperty(packet.properties, 'content-encoding') }),
    );
    await observer.subscribeAsync(`roadlink/v1/${VIN_A}/data`, { qos: 1 });
    const out = lineCollector();
    // Own group: receivers of one group share the messages (the previous upload's may still run).
    const receiver = new Receiver({ broker: { url: suite.broker.url }, group: `payload-${raw.length}-${Math.random().toString(36).slice(2)}`, writeLine: out.writeLine, log: quiet });
    await receiver.start();
    cleanups.push(() => receiver.stop().then(() => undefined));

    const uplink = new Uplink({ vin: VIN_A, broker: { url: suite.broker.url }, store: t.store, checkin: () => ({ signals: SIGNALS }), log: quiet, ...options });
    cleanups.push(() => uplink.stop());
    uplink.start();
    await waitFor(() => uplink.stats().ackedRows === 1, 'the row acked');
    await waitFor(() => raw.length === uplink.stats().publishedMessages && (receiver.summary().vehicles[VIN_A]?.data?.received ?? 0) === count, 'all parts observed');
    // Copies: the observer of this upload keeps listening while the test may start another.
    return { sent, raw: [...raw], lines: [...out.lines], summary: receiver.summary().vehicles[VIN_A].data, stats: uplink.stats() };
  }

  it('splits a chunk larger than maxPayloadBytes into parts that fit, covering the sequence range once', async () => {
    const { sent, raw, lines, summary, stats } = await upload(20_000, { maxPayloadBytes: 4096, deflate: false });
    expect(raw.length).toBeGreaterThan(5);
    expect(Math.max(...raw.map((r) => r.size))).toBeLessThanOrEqual(4096);
    expect(stats).toMatchObject({ splitRows: 1, ackedRows: 1, ackedSamples: 20_000, publishedMessages: raw.length, deflatedMessages: 0 });
    expect(summary).toMatchObject({ received: 20_000, duplicates: 0, holes: [], first: 1, last: 20_000 });
    expect(missingOrWrong(sent, receivedSamples(lines))).toEqual([]);
    // Contiguous parts: each starts where the previous ended.
    const parts = lines.filter((l) => l.type === 'data').map((l) => [l.seq as number, l.count as number]);
    for (let i = 1; i < parts.length; i++) expect(parts[i][0]).toBe(parts[i - 1][0] + parts[i - 1][1]);
  });

  it('deflates payloads, flags them with content-encoding, and the receiver reads the same samples', async () => {
    const plain = await upload(10_000, { deflate: false });
    const deflated = await upload(10_000, { deflate: true });
    expect(plain.raw.every((r) => r.encoding === undefined)).toBe(true);
    expect(deflated.raw.every((r) => r.encoding === 'deflate-raw')).toBe(true);
    expect(deflated.stats.publishedPayloadBytes).toBeLessThan(plain.stats.publishedPayloadBytes * 0.8);
    expect(deflated.stats.deflatedMessages).toBe(deflated.stats.publishedMessages);
    expect(missingOrWrong(deflated.sent, receivedSamples(deflated.lines))).toEqual([]);
    expect(deflated.summary).toMatchObject({ received: 10_000, duplicates: 0, holes: [] });
  });

  it('splits by the compressed size when deflating', async () => {
    const { raw, summary, stats } = await upload(40_000, { deflate: true, maxPayloadBytes: 2048 });
    expect(stats.splitRows).toBe(1);
    expect(raw.length).toBeGreaterThan(1);
    expect(raw.every((r) => r.size <= 2048 && r.encoding === 'deflate-raw')).toBe(true);
    expect(summary).toMatchObject({ received: 40_000, duplicates: 0, holes: [] });
  });
});

describe('payload helpers', () => {
  it('refuses a deflate bomb and unknown encodings', () => {
    const bomb = deflateRawSync(Buffer.alloc(80 * 1024 * 1024));
    expect(() => unpack(bomb, { userProperties: { 'content-encoding': 'deflate-raw' } })).toThrow(PayloadError);
    expect(() => unpack(Buffer.from('x'), { userProperties: { 'content-encoding': 'gzip' } })).toThrow(/unknown content-encoding "gzip"/);
    const small = Buffer.from('roadlink roadlink roadlink roadlink roadlink roadlink');
    const packed = pack(small, true);
    expect(packed.deflated).toBe(true);
    expect(Buffer.compare(unpack(packed.payload, { userProperties: { 'content-encoding': 'deflate-raw' } }), small)).toBe(0);
  });

  it('bounds a downlink payload by its kind: plain or deflated bytes above the bound, and inflating past it, are refused with their reason', () => {
    const deflated = { userProperties: { 'content-encoding': 'deflate-raw' } };
    const reason = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        expect(err).toBeInstanceOf(PayloadError);
        return (err as PayloadError).reason;
      }
      return 'accepted';
    };
    const max = DOWNLINK_MAX_BYTES['cmd/req'];
    expect(reason(() => unpack(Buffer.alloc(max), undefined, max))).toBe('accepted');
    expect(reason(() => unpack(Buffer.alloc(max + 1), undefined, max))).toBe('oversize');
    expect(reason(() => unpack(deflateRawSync(Buffer.alloc(max, 7)), deflated, max))).toBe('accepted');
    expect(reason(() => unpack(deflateRawSync(Buffer.alloc(max + 1, 7)), deflated, max))).toBe('inflate_bound');
    expect(reason(() => unpack(Buffer.from('not deflate'), deflated, max))).toBe('bad_deflate');
    expect(reason(() => unpack(Buffer.from('x'), { userProperties: { 'content-encoding': 'br' } }, max))).toBe('unknown_encoding');
    // 32 MiB of zeros (32 KB deflated) under the rules bound: refused at the bound; bytes beyond the bound are refused unread.
    const bomb = deflateRawSync(Buffer.alloc(32 * 1024 * 1024));
    expect(reason(() => unpack(bomb, deflated, DOWNLINK_MAX_BYTES.rules))).toBe('inflate_bound');
    expect(reason(() => unpack(Buffer.alloc(DOWNLINK_MAX_BYTES.rules + 1), deflated, DOWNLINK_MAX_BYTES.rules))).toBe('oversize');
  });

  it('deflates only when the saving exceeds what the content-encoding property costs on the wire', () => {
    // What the property really adds to a PUBLISH packet (mqtt-packet is mqtt.js's own encoder).
    const publish = (properties?: Record<string, unknown>) =>
      mqttPacket.generate({ cmd: 'publish', topic: 'roadlink/v1/X/data', payload: Buffer.alloc(300), qos: 1, messageId: 1, dup: false, retain: false, properties }, { protocolVersion: 5 }).length;
    expect(publish({ userProperties: { 'content-encoding': 'deflate-raw' } }) - publish()).toBe(ENCODING_PROPERTY_BYTES);

    // Bytes that deflate saves something on, but less than the property: sent plain.
    const modest = Buffer.from(Array.from({ length: 80 }, (_, i) => (i % 16 < 8 ? 7 : (i * 37) % 251)));
    const saved = modest.length - deflateRawSync(modest).length;
    expect(saved).toBeGreaterThan(0);
    expect(saved).toBeLessThanOrEqual(ENCODING_PROPERTY_BYTES);
    expect(pack(modest, true)).toMatchObject({ deflated: false, payload: modest });
    // Saving more than the property: deflated.
    const repetitive = Buffer.alloc(200, 7);
    expect(repetitive.length - deflateRawSync(repetitive).length).toBeGreaterThan(ENCODING_PROPERTY_BYTES);
    expect(pack(repetitive, true).deflated).toBe(true);
  });

  it('keeps incompressible payloads as they are', () => {
    const noise = Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 197 + 13) % 251));
    expect(pack(noise, true)).toMatchObject({ deflated: false });
  });

  it('reports a record over the limit as oversize instead of splitting it', () => {
    const payloader = new RowPayloader(100, false);
    const row = { rowId: 1, stream: 'events', priority: 3, kind: 'record' as const, firstSeq: 1, count: 1, timeUs: 0, bytes: new Uint8Array(500) };
    expect(payloader.payloads(row).oversize).toBe(true);
  });

  it('split parts decode to the original samples in the original sequence order', () => {
    const t = openTestStore();
    try {
      fillSamples(t.store, 3000, 3000);
      const [row] = t.store.nextBatch(1);
      const original = decodeSampleChunk(row.bytes);
      const { parts, counts, oversize } = new RowPayloader(1000, false).payloads(row);
      expect(oversize).toBe(false);
      expect(parts.length).toBeGreaterThan(2);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(3000);
      const times: number[] = [];
      const raws: number[] = [];
      let seq = original.header.firstSeq;
      parts.forEach((p, i) => {
        expect(p.payload.length).toBeLessThanOrEqual(1000);
        const part = decodeSampleChunk(p.payload);
        expect(part.header.firstSeq).toBe(seq);
        expect(part.columns.sampleCount).toBe(counts[i]);
        seq += counts[i];
        times.push(...part.columns.timeMs);
        raws.push(...part.columns.raw);
      });
      expect(times).toEqual([...original.columns.timeMs]);
      expect(raws).toEqual([...original.columns.raw]);
    } finally {
      t.dispose();
    }
  });
});
