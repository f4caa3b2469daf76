import { spawn } from 'node:child_process';
import { constants, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GnssFix } from '../../drivers/gnss/fix-assembler.js';
import { createGnssDriver } from '../../drivers/gnss/create-gnss-driver.js';
import { NmeaFileReplay } from '../../drivers/gnss/nmea-file-replay.js';
import { appendFixSamples, gnssSignalIds, NO_FRAME } from '../../drivers/gnss/gnss-signals.js';
import { GNSS_FIX_SIGNALS } from '../../drivers/gnss/gnss-signal-names.js';
import { createSampleBatch } from '../../agent/decode/sample-batch.js';
import { FIXTURE_PATH, fixtureNmea } from './fixture.js';
import { writeNmea } from '../helpers/nmea-route.js';
import { syntheticDrive } from '../helpers/synthetic-drive.js';

const tmp = mkdtempSync(join(tmpdir(), 'roadlink-gnss-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const fixture = fixtureNmea();
const fixtureFixes = fixture.track.filter((_, i) => !fixture.noFix.includes(i));

describe('NMEA file replay', () => {
  it('delivers each fix at its own time divided by the speed factor (simulated clock)', async () => {
    let now = 1_000_000;
    const delivered: { fix: GnssFix; at: number }[] = [];
    const replay = new NmeaFileReplay({
      path: FIXTURE_PATH,
      speed: 4,
      nowMs: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    });
    await replay.open((fix) => delivered.push({ fix, at: now }));
    await replay.done;
    expect(delivered).toHaveLength(fixtureFixes.length);
    const first = delivered[0];
    for (const d of delivered) expect(d.at - first.at).toBeCloseTo((d.fix.timeMs - first.fix.timeMs) / 4, 6);
    expect(delivered.at(-1)!.fix.timeMs - first.fix.timeMs).toBe((fixtureFixes.length - 1) * 1000);
    expect(replay.stats()).toMatchObject({ fixes: fixtureFixes.length, bad: 4, connected: false });
  });

  it('replays in real time at a high speed factor, rebased to now, and close() stops it', async () => {
    const replay = createGnssDriver({ file: FIXTURE_PATH, speed: 200, rebaseToNow: true }) as NmeaFileReplay;
    const fixes: GnssFix[] = [];
    const start = Date.now();
    await replay.open((f) => fixes.push(f));
    await replay.done;
    const elapsed = Date.now() - start;
    const span = (fixtureFixes.length - 1) * 1000;
    expect(elapsed).toBeGreaterThanOrEqual(span / 200 - 5);
    expect(fixes[0].timeMs).toBeGreaterThanOrEqual(start);
    expect(fixes[0].timeMs).toBeLessThanOrEqual(start + elapsed);
    expect(fixes.at(-1)!.timeMs - fixes[0].timeMs).toBe(span);

    const slow = createGnssDriver({ file: FIXTURE_PATH, speed: 1 }) as NmeaFileReplay;
    const some: GnssFix[] = [];
    await slow.open((f) => some.push(f));
    await new Promise((r) => setTimeout(r, 150));
    await slow.close();
    expect(some.length).toBeGreaterThanOrEqual(1);
    expect(some.length).toBeLessThan(3);
  });

  it('loops with each pass rebased, numbering lines from 1 again', async () => {
    const replay = createGnssDriver({ file: FIXTURE_PATH, speed: 0, loop: true }) as NmeaFileReplay;
    const fixes: GnssFix[] = [];
    await replay.open((f) => {
      fixes.push(f);
      if (fixes.length === fixtureFixes.length * 2 + 3) void replay.close();
    });
    await replay.done;
    expect(fixes.length).toBe(fixtureFixes.length * 2 + 3);
    const stats = replay.stats();
    expect(stats.bad).toBeGreaterThanOrEqual(8);
    expect(stats.recentBad[4].line).toBe(stats.recentBad[0].line);
    // Times keep going forward across passes, one fix interval apart.
    for (let i = 1; i < fixes.length; i++) expect(fixes[i].timeMs - fixes[i - 1].timeMs).toBe(1000);
  });

  it('refuses a file that does not exist, naming it', async () => {
    const replay = createGnssDriver({ file: join(tmp, 'missing.nmea') });
    await expect(replay.open(() => {})).rejects.toThrow(/missing\.nmea/);
  });
});

describe('NMEA serial source', () => {
  it('reads a FIFO split anywhere, and loses nothing when its writer goes away and writers come and go back to back', async () => {
    const fifo = join(tmp, 'gnss.fifo');
    await mkfifo(fifo);
    const track = syntheticDrive({ seed: 4 }).track.slice(30, 50);
    const text = writeNmea(track).text;
    const driver = createGnssDriver({ device: fifo, reconnectMs: 50 });
    const fixes: GnssFix[] = [];
    await driver.open((f) => fixes.push(f));
    await waitFor(() => driver.stats().connected);

    // Three writers, each cut at an epoch start; an epoch is RMC first, so a part holds as many fixes as RMCs.
    const cut = (from: number) => text.indexOf('$GNRMC', from);
    const [a, b] = [cut(text.length / 3), cut((2 * text.length) / 3)];
    const parts = [text.slice(0, a), text.slice(a, b), text.slice(b)];
    const epochs = (part: string) => part.split('$GNRMC').length - 1;
    await writeToFifo(fifo, parts[0]);
    await waitFor(() => fixes.length === epochs(parts[0]));
    // No writer now: that is silence, not an error, and the driver stays on the FIFO.
    await new Promise((r) => setTimeout(r, 100));
    expect(driver.stats()).toMatchObject({ connected: true, ioErrors: 0 });
    // A writer that closes and one that opens right after it: the second's data must not be dropped
    // while the reader is between writers.
    await writeToFifo(fifo, parts[1]);
    await writeToFifo(fifo, parts[2]);
    await waitFor(() => fixes.length === track.length);
    expect(fixes.map((f) => f.timeMs)).toEqual(track.map((p) => p.timeMs));
    expect(driver.stats()).toMatchObject({ bad: 0, connected: true, ioErrors: 0 });
    await driver.close();
    // close() let go of the FIFO: a writer now finds no reader (nothing left open or waiting in the driver).
    await expect(open(fifo, constants.O_WRONLY | constants.O_NONBLOCK)).rejects.toMatchObject({ code: 'ENXIO' });
  });

  it('reads a real tty (a pseudo-terminal from util-linux script): sets raw mode and the baud rate, survives the hangup', async () => {
    // `script` runs `tty; sleep` on a new pty; what we write to its stdin arrives as input on that tty.
    const child = spawn('script', ['-q', '-c', 'tty; exec sleep 60', '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const ttyPath = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /(\/dev\/pts\/\d+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', () => reject(new Error(`script exited: ${out}`)));
    });
    const driver = createGnssDriver({ device: ttyPath, baud: 38400, reconnectMs: 50 });
    const fixes: GnssFix[] = [];
    await driver.open((f) => fixes.push(f));
    await waitFor(() => driver.stats().connected);
    const settings = await new Promise<string>((resolve) => {
      const stty = spawn('stty', ['-F', ttyPath, '-a']);
      let text = '';
      stty.stdout.on('data', (d: Buffer) => (text += d.toString()));
      stty.on('exit', () => resolve(text));
    });
    expect(settings).toMatch(/speed 38400 baud/);
    expect(settings).toMatch(/-icanon/);
    expect(settings).toMatch(/-echo\b/);
    const track = syntheticDrive({ seed: 6 }).track.slice(40, 52);
    const text = writeNmea(track, { only: ['RMC', 'GGA'] }).text;
    for (let i = 0; i < text.length; i += 200) {
      child.stdin.write(text.slice(i, i + 200));
      await new Promise((r) => setTimeout(r, 2));
    }
    await waitFor(() => fixes.length === track.length);
    expect(fixes.map((f) => f.timeMs)).toEqual(track.map((p) => p.timeMs));
    expect(driver.stats().bad).toBe(0);
    // Unplugged: the pty goes away; the driver counts it and keeps trying, it does not throw.
    child.kill('SIGKILL');
    await waitFor(() => !driver.stats().connected && driver.stats().ioErrors >= 2);
    await driver.close();
  });

  it('keeps retrying a device that is not there, without throwing, and reads it once it appears', async () => {
    const device = join(tmp, 'ttyUSB9');
    const driver = createGnssDriver({ device, reconnectMs: 20 });
    const fixes: GnssFix[] = [];
    await driver.open((f) => fixes.push(f));
    await waitFor(() => driver.stats().ioErrors >= 3);
    expect(driver.stats()).toMatchObject({ connected: false });
    expect(driver.stats().lastIoError).toMatch(/ttyUSB9.*ENOENT/);
    // Plugged in (a FIFO stands for the device node): the next retry opens it and reads.
    await mkfifo(device);
    await waitFor(() => driver.stats().connected);
    const track = syntheticDrive({ seed: 5 }).track.slice(10, 16);
    await writeToFifo(device, writeNmea(track).text);
    await waitFor(() => fixes.length === track.length);
    expect(fixes.map((f) => f.timeMs)).toEqual(track.map((p) => p.timeMs));
    await driver.close();
  });
});

describe('GNSS fix as vehicle signals', () => {
  it('appends the fields the CAN catalog does not provide, at the fix time', () => {
    const table = ['Vehicle.Speed', GNSS_FIX_SIGNALS.lat, GNSS_FIX_SIGNALS.lon, GNSS_FIX_SIGNALS.altM, GNSS_FIX_SIGNALS.headingDeg];
    const fromCan = new Set(['Vehicle.Speed']);
    const ids = gnssSignalIds((name) => (fromCan.has(name) ? -1 : table.indexOf(name)));
    const batch = createSampleBatch(2);
    const fix: GnssFix = { timeMs: 1_700_000_000_123, lat: 48.1, lon: 2.2, altM: 150.5, speedKmh: 42, headingDeg: NaN, quality: 1, satellites: 9, hdop: 0.9 };
    appendFixSamples(fix, ids, batch);
    expect(batch.count).toBe(3); // lat, lon, alt: heading unknown, speed from CAN, no accuracy signal in the table
    expect([...batch.signal.subarray(0, 3)]).toEqual([1, 2, 3]);
    expect([...batch.value.subarray(0, 3)]).toEqual([48.1, 2.2, 150.5]);
    expect([...batch.timeUs.subarray(0, 3)]).toEqual([fix.timeMs * 1000, fix.timeMs * 1000, fix.timeMs * 1000]);
    expect(batch.frame[0]).toBe(NO_FRAME);
  });
});

async function mkfifo(path: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    spawn('mkfifo', [path]).on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`mkfifo ${code}`))));
  });
}

/** Writes through a writer of its own, in 37-character pieces with pauses (lines split anywhere), then closes it. */
async function writeToFifo(fifo: string, text: string): Promise<void> {
  // Non-blocking open: the driver holds the FIFO open, so a reader is there (ENXIO would say it is not).
  const handle = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  try {
    for (let i = 0; i < text.length; i += 37) {
      await handle.write(text.slice(i, i + 37));
      if (i % 370 === 0) await new Promise((r) => setTimeout(r, 1));
    }
  } finally {
    await handle.close();
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
