import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { framePayload, FrameFlag, type FrameBatch } from '../../drivers/can/frame-batch.js';
import { formatCandumpLine } from '../../drivers/replay/candump-writer.js';
import { ReplayDriver, type ReplayDriverOptions } from '../../drivers/replay/replay-driver.js';
import { corpusFile } from '../helpers/corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'roadlink-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_700_000_000_000_000;

interface Delivered {
  bus: string;
  id: number;
  flags: number;
  timeUs: number;
  data: number[];
  /** performance.now() when the batch arrived. */
  atMs: number;
  batch: number;
}

/** Writes a log of `count` frames, one every `stepUs`, cycling over `buses`. */
function writeLog(name: string, count: number, stepUs: number, buses = ['can0']): string {
  const lines = [];
  for (let k = 0; k < count; k++) lines.push(formatCandumpLine(T0 + k * stepUs, buses[k % buses.length], 0x100 + (k % 0x600), 0, [k & 0xff, k >> 8]));
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

function recorder(): { frames: Delivered[]; sink: (b: FrameBatch) => void; batches: number[] } {
  const frames: Delivered[] = [];
  const batches: number[] = [];
  const sink = (b: FrameBatch) => {
    const atMs = performance.now();
    for (let i = 0; i < b.count; i++) {
      frames.push({ bus: b.busNames[b.bus[i]], id: b.id[i], flags: b.flags[i], timeUs: b.timeUs[i], data: [...framePayload(b, i)], atMs, batch: batches.length });
    }
    batches.push(b.count);
  };
  return { frames, sink, batches };
}

async function replay(options: ReplayDriverOptions): Promise<{ frames: Delivered[]; batches: number[]; ms: number; startMs: number; driver: ReplayDriver }> {
  const driver = new ReplayDriver(options);
  const { frames, sink, batches } = recorder();
  const start = performance.now();
  await driver.open(sink);
  await driver.finished();
  const ms = performance.now() - start;
  await driver.close();
  return { frames, batches, ms, startMs: start, driver };
}

describe('ReplayDriver timing', () => {
  it('plays a 2 s log at 10x in about 0.2 s, in order, frames no later than a few ms', async () => {
    const path = writeLog('two-seconds.log', 201, 10_000);
    const { frames, ms, startMs, driver } = await replay({ path, speed: 10, timestamps: 'log' });
    expect(ms).toBeGreaterThan(150);
    expect(ms).toBeLessThan(1000);
    expect(frames).toHaveLength(201);
    expect(frames.map((f) => f.timeUs)).toEqual([...Array(201).keys()].map((k) => T0 + k * 10_000));
    expect(frames[200].data).toEqual([200, 0]);
    // Each frame reaches the sink after its scaled log time since open(), and not much later
    // (5 ms batching + timer and scheduling slack on a shared machine).
    const late = frames.map((f) => f.atMs - startMs - (f.timeUs - T0) / 1000 / 10);
    // (-1: the test's clock and the driver's are read at different instants, to the millisecond.)
    expect(Math.min(...late)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...late)).toBeLessThan(100);
    expect(driver.stats()).toEqual({ framesIn: 201, framesOut: 0, errorFrames: 0, badInput: 0 });
  });

  it('never puts more than maxBatchDelayMs x speed of log time in one batch', async () => {
    const path = writeLog('spans.log', 400, 1_000);
    const { frames } = await replay({ path, speed: 4, timestamps: 'log', maxBatchDelayMs: 5 });
    const byBatch = new Map<number, number[]>();
    for (const f of frames) byBatch.set(f.batch, [...(byBatch.get(f.batch) ?? []), f.timeUs]);
    expect(byBatch.size).toBeGreaterThan(10);
    for (const times of byBatch.values()) expect(times[times.length - 1] - times[0]).toBeLessThanOrEqual(20_000);
  });

  it("plays as fast as possible at speed 'max' (and 0), in full batches", async () => {
    const path = corpusFile('logs/eldominio/kona/turnonlog.log');
    for (const speed of ['max', 0] as const) {
      const { frames, batches, driver } = await replay({ path, speed, timestamps: 'log', batchCapacity: 1000 });
      expect(frames).toHaveLength(17_173);
      expect(batches.slice(0, -1).every((n) => n === 1000)).toBe(true);
      expect(frames[0]).toMatchObject({ bus: 'can0', id: 0x153, timeUs: 1733187989936605 });
      expect(driver.replayProgress()).toMatchObject({ passes: 1, lines: 17_173, badLines: 0 });
    }
  });

  it('stamps frames on the wall clock by default, keeping their spacing divided by the speed', async () => {
    const path = writeLog('wall.log', 50, 20_000);
    const before = Date.now() * 1000;
    const { frames } = await replay({ path, speed: 20 });
    const after = Date.now() * 1000;
    expect(frames[0].timeUs).toBeGreaterThanOrEqual(before - 1000);
    // A batch is handed over up to maxBatchDelayMs (5 ms) before its last frame is due.
    expect(frames[49].timeUs).toBeLessThanOrEqual(after + 6000);
    for (let k = 1; k < 50; k++) expect(frames[k].timeUs - frames[k - 1].timeUs).toBe(1000);
  });

  it('stops promptly when closed during a long gap', async () => {
    const path = join(dir, 'gap.log');
    writeFileSync(path, `${formatCandumpLine(T0, 'can0', 1, 0, [])}\n${formatCandumpLine(T0 + 60_000_000, 'can0', 2, 0, [])}\n`);
    const driver = new ReplayDriver({ path });
    const { frames, sink } = recorder();
    let ended = 0;
    const ending = new ReplayDriver({ path, onEnd: () => ended++ });
    await driver.open(sink);
    await ending.open(() => {});
    await new Promise((r) => setTimeout(r, 100));
    const start = performance.now();
    await driver.close();
    await ending.close();
    expect(performance.now() - start).toBeLessThan(200);
    expect(frames.map((f) => f.id)).toEqual([1]);
    expect(ended).toBe(1);
  });
});

describe('ReplayDriver loop, buses, input', () => {
  it('loops with times shifted to keep increasing', async () => {
    const path = join(dir, 'loop.log');
    // Three frames over 20 ms: mean gap 10 ms, so pass k is shifted by k * 30 ms.
    writeFileSync(path, [0, 5_000, 20_000].map((t, k) => formatCandumpLine(T0 + t, 'can0', 0x10 + k, 0, [k])).join('\n'));
    const driver = new ReplayDriver({ path, speed: 'max', loop: true, timestamps: 'log' });
    const { frames, sink } = recorder();
    await driver.open(sink);
    while (frames.length < 12) await new Promise((r) => setTimeout(r, 5));
    await driver.close();
    expect(frames.slice(0, 12).map((f) => f.timeUs - T0)).toEqual([0, 5_000, 20_000, 30_000, 35_000, 50_000, 60_000, 65_000, 80_000, 90_000, 95_000, 110_000]);
    expect(frames.slice(0, 6).map((f) => f.id)).toEqual([0x10, 0x11, 0x12, 0x10, 0x11, 0x12]);
    expect(driver.replayProgress().passes).toBeGreaterThanOrEqual(3);
  });

  it('loops at real-time speed with monotonic wall-clock stamps', async () => {
    const path = writeLog('loop-real.log', 5, 10_000);
    const driver = new ReplayDriver({ path, speed: 1, loop: true });
    const { frames, sink } = recorder();
    await driver.open(sink);
    while (frames.length < 15) await new Promise((r) => setTimeout(r, 5));
    await driver.close();
    for (let k = 1; k < frames.length; k++) expect(frames[k].timeUs).toBeGreaterThan(frames[k - 1].timeUs);
  });

  it('keeps the buses of one log apart and renames them', async () => {
    const path = writeLog('buses.log', 30, 1_000, ['can0', 'can1', 'vcan7']);
    const { frames } = await replay({ path, speed: 'max', busRename: { can0: 'body', vcan7: 'chassis' } });
    expect(frames.map((f) => f.bus)).toEqual([...Array(30).keys()].map((k) => ['body', 'can1', 'chassis'][k % 3]));
    expect(frames.map((f) => f.data[0])).toEqual([...Array(30).keys()]);
  });

  it('replays real logs from the corpus: 29-bit IDs, remote requests, relative times', async () => {
    const camaro = await replay({ path: corpusFile('logs/eldominio/edge/camaro_noeculog.log'), speed: 'max', timestamps: 'log' });
    expect(camaro.frames).toHaveLength(6_236);
    expect(camaro.frames.filter((f) => f.flags & FrameFlag.EXTENDED)).toHaveLength(174);
    const evox = await replay({ path: corpusFile('logs/eldominio/edge/evox_moteccan.log'), speed: 'max', timestamps: 'log' });
    expect(evox.frames).toHaveLength(537);
    expect(evox.frames.filter((f) => f.flags & FrameFlag.RTR)).toHaveLength(5);
    const savvy = await replay({ path: corpusFile('logs/savvycan/candump.log'), speed: 'max', timestamps: 'log', busRename: { vcan0: 'body' } });
    expect(savvy.frames[0]).toMatchObject({ bus: 'body', id: 0x21a, timeUs: 166_000_000 });
  });

  it('counts bad lines as bad input and keeps samples', async () => {
    const path = join(dir, 'bad.log');
    writeFileSync(path, ['(1.000000) can0 123#01', 'garbage here', '(1.000001) can0 124#0', '(1.000002) can0 125#02'].join('\n'));
    const { frames, driver } = await replay({ path, speed: 'max' });
    expect(frames.map((f) => f.id)).toEqual([0x123, 0x125]);
    expect(driver.stats().badInput).toBe(2);
    expect(driver.replayProgress().badLineSamples.map((s) => [s.line, s.reason])).toEqual([
      [2, 'missing CAN ID'],
      [3, 'odd number of hex digits in payload'],
    ]);
  });

  it('rejects open() with the path when the log is missing', async () => {
    const driver = new ReplayDriver({ path: join(dir, 'nope.log') });
    await expect(driver.open(() => {})).rejects.toThrow(/cannot open candump log .*nope\.log.*ENOENT/);
    expect(() => new ReplayDriver({ path: 'x', speed: -1 })).toThrow(/speed/);
  });

  it('reports a failing sink through finished() and onEnd', async () => {
    const path = writeLog('sink-fails.log', 3, 1_000);
    let endError: Error | undefined;
    const driver = new ReplayDriver({ path, speed: 'max', onEnd: (e) => (endError = e) });
    await driver.open(() => {
      throw new Error('sink broke');
    });
    await expect(driver.finished()).rejects.toThrow('sink broke');
    expect(endError?.message).toBe('sink broke');
    await driver.close();
  });
});

describe('ReplayDriver send', () => {
  it('records and counts sent frames without replaying them, and refuses frames CAN cannot carry', async () => {
    const path = writeLog('send.log', 2, 1_000);
    const driver = new ReplayDriver({ path, speed: 'max', sentFramesKept: 2 });
    const { frames, sink } = recorder();
    await driver.open(sink);
    const data = Uint8Array.of(1, 2, 3);
    await driver.send([{ bus: 'can0', id: 0x7e0, data }]);
    data[0] = 99; // the driver kept a copy
    await driver.send([
      { bus: 'can1', id: 0x18daf110, data: new Uint8Array(12), flags: FrameFlag.EXTENDED | FrameFlag.FD },
      { bus: 'can0', id: 0x7e1, data: Uint8Array.of(4) },
    ]);
    await expect(driver.send([{ bus: 'can0', id: 0x800, data: new Uint8Array(1) }])).rejects.toThrow(/can0: 11-bit CAN ID 0x800/);
    await expect(driver.send([{ bus: 'can0', id: 1, data: new Uint8Array(9) }])).rejects.toThrow(/9 bytes exceeds 8/);
    await driver.finished();
    expect(frames.map((f) => f.id)).toEqual([0x100, 0x101]);
    expect(driver.sentFrames().map((f) => [f.bus, f.id, [...f.data]])).toEqual([
      ['can1', 0x18daf110, new Array(12).fill(0)],
      ['can0', 0x7e1, [4]],
    ]);
    expect(driver.stats().framesOut).toBe(3);
    await driver.close();
    await expect(driver.send([{ bus: 'can0', id: 1, data: new Uint8Array(1) }])).rejects.toThrow(/closed/);
  });
});
