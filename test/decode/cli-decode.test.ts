import { execFile, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDecode } from '../../apps/cli/decode.js';
import { putFloat, pythonFloatRepr } from '../../apps/cli/decode-jsonl.js';
import { corpusFile } from '../helpers/corpus.js';

const repo = join(import.meta.dirname, '..', '..');
const fixture = (name: string) => join(repo, 'test', 'fixtures', 'dbc', name);

async function run(argv: string[], stdinText = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await runDecode(argv, { stdin: Readable.from([Buffer.from(stdinText)]), stdout, stderr });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

const reference = (rel: string) => gunzipSync(readFileSync(corpusFile(rel))).toString('utf8');

describe('roadlink decode (in process)', () => {
  it('writes the Yaris steering log exactly as the cantools reference decode, with a summary on stderr', async () => {
    const { code, stdout, stderr } = await run(['--dbc', corpusFile('dbc/opendbc/toyota_iQ_2009_can.dbc'), corpusFile('logs/eldominio/yaris09/steering.log')]);
    expect(code).toBe(0);
    expect(stdout).toBe(reference('reference/yaris09_steering.toyota_iQ_2009_can.cantools.jsonl.gz'));
    // 1769 frames in the log, 1128 reference records (39 short): 641 frames of unknown IDs.
    expect(stderr).toContain('decoded 1128 of 1769 frames (39 with a payload shorter than the DBC length)');
    expect(stderr).toMatch(/unknown IDs: 641 frames, 14 distinct: can0 0x2C4 \(430\), /);
  });

  it('writes the Kona log exactly as the cantools reference decode', async () => {
    const { code, stdout, stderr } = await run(['--dbc', corpusFile('dbc/opendbc/hyundai_can.dbc'), corpusFile('logs/eldominio/kona/turnonlog.log')]);
    expect(code).toBe(0);
    expect(stdout).toBe(reference('reference/kona_turnonlog.hyundai_can.cantools.jsonl.gz'));
    expect(stderr).toContain('hyundai_can.dbc:1656: malformed CM_'); // DBC warnings are shown
    expect(stderr).toContain('decoded 16535 of 17173 frames (1828 with a payload shorter than the DBC length)');
  });

  it('reads stdin, keeps the ID text length, reports bad lines with their numbers and still exits 0', async () => {
    const log = [
      '(1.000001) can0 600#0301',
      '(1.000002) can0 600#03ZZ',
      'this is not a frame',
      '(1.000003) can1 18FEF1FE#0200004000',
      '(1.000004) can0 7FF#00',
      '',
    ].join('\n');
    const { code, stdout, stderr } = await run(['--dbc', fixture('vehicle.dbc'), '-'], log);
    expect(code).toBe(0);
    expect(stdout.split('\n')).toEqual([
      '{"t":"1.000001","bus":"can0","id":"600","ext":false,"msg":"Gear","sig":{"Selected":3,"Lamp":1},"lbl":{"Selected":"D","Lamp":"On"}}',
      '{"t":"1.000003","bus":"can1","id":"18FEF1FE","ext":true,"msg":"Engine29","sig":{"State":2,"Rpm":8.0},"lbl":{"State":"Running"},"short":5}',
      '',
    ]);
    expect(stderr).toContain('decoded 2 of 3 frames (1 with a payload shorter than the DBC length), 4 signal values');
    expect(stderr).toContain('unknown IDs: 1 frames, 1 distinct: can0 0x7FF (1)');
    expect(stderr).toMatch(/bad lines: 2\n {2}line 2: .*600#03ZZ\n {2}line 3: .*this is not a frame\n/);
  });

  // Expected lines: what cantools 42.0.3 decodes from these frames (json.dumps of Message.decode with
  // allow_truncated), checked with cantools when this test was written.
  it('prints integer signals wider than 53 bits exactly (a scaled one stays a double, as in cantools)', async () => {
    const log = [
      '(1.000000) can0 310##0FFFFFFFFFFFFFFFF8000000000000001',
      '(1.000001) can0 311#FFFFFFFFFFFFFF01',
      '(1.000002) can0 312#FFFFFFFFFFFFFFFF',
      '(1.000003) can0 313##00200000000000000FEFFFFFFFFFFFFFF',
      '',
    ].join('\n');
    const { code, stdout } = await run(['--dbc', fixture('wide.dbc')], log);
    expect(code).toBe(0);
    expect(stdout.split('\n')).toEqual([
      '{"t":"1.000000","bus":"can0","id":"310","ext":false,"msg":"WideInts","sig":{"U64":18446744073709551615,"S64Moto":-9223372036854775807}}',
      '{"t":"1.000001","bus":"can0","id":"311","ext":false,"msg":"WideMixed","sig":{"U56":72057594037927935,"Small":1},"lbl":{"Small":"One"}}',
      '{"t":"1.000002","bus":"can0","id":"312","ext":false,"msg":"WideScaled","sig":{"Half64":9.223372036854776e+18}}',
      '{"t":"1.000003","bus":"can0","id":"313","ext":false,"msg":"WideMux","sig":{"Mode":2,"U64":18446744073709551614}}',
      '',
    ]);
  });

  it('decodes a CAN FD frame whose byte count no DLC encodes with the bytes it has (can-utils and cantools keep them)', async () => {
    // FdWide is 64 bytes: 10 bytes hold First only; 9 bytes of an FD frame on a 2-byte message: excess ignored.
    const log = '(2.000000) can0 00000200##1' + '7F'.repeat(10) + '\n(2.000001) can0 600##0' + '0301'.padEnd(18, '0') + '\n';
    const { code, stdout, stderr } = await run(['--dbc', fixture('vehicle.dbc')], log);
    expect(code).toBe(0);
    expect(stdout.split('\n')).toEqual([
      '{"t":"2.000000","bus":"can0","id":"00000200","ext":true,"msg":"FdWide","sig":{"First":127},"short":10}',
      '{"t":"2.000001","bus":"can0","id":"600","ext":false,"msg":"Gear","sig":{"Selected":3,"Lamp":1},"lbl":{"Selected":"D","Lamp":"On"}}',
      '',
    ]);
    expect(stderr).not.toContain('bad lines');
  });

  it('binds a DBC to one bus with --bus NAME=FILE', async () => {
    const log = '(1.000000) can0 600#0301\n(1.000000) can1 600#0201\n';
    const { code, stdout } = await run(['--bus', `can1=${fixture('vehicle.dbc')}`], log);
    expect(code).toBe(0);
    expect(stdout.trim().split('\n').map((l) => (JSON.parse(l) as { bus: string }).bus)).toEqual(['can1']);
  });

  it('keeps parsed DBC files in --cache-dir and decodes the same from them; --no-cache writes none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roadlink-cli-cache-'));
    const cache = join(dir, 'cache');
    const args = ['--dbc', corpusFile('dbc/opendbc/hyundai_can.dbc'), corpusFile('logs/eldominio/kona/turnonlog.log')];
    const first = await run(['--cache-dir', cache, ...args]);
    expect(readdirSync(cache).filter((f) => f.endsWith('.dbcv8'))).toHaveLength(1);
    const second = await run(['--cache-dir', cache, ...args]);
    expect(second).toEqual(first); // the warnings too
    expect(second.stdout).toBe(reference('reference/kona_turnonlog.hyundai_can.cantools.jsonl.gz'));
    const uncached = await run(['--no-cache', '--cache-dir', join(dir, 'unused'), ...args]);
    expect(uncached).toEqual(first);
    expect(existsSync(join(dir, 'unused'))).toBe(false);
    rmSync(dir, { recursive: true });
  });

  it('fails clearly, without a stack, on unusable input', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roadlink-cli-'));
    writeFileSync(join(dir, 'garbage.dbc'), 'garbage in\n');
    const missingLog = await run(['--dbc', fixture('vehicle.dbc'), join(dir, 'absent.log')]);
    expect(missingLog).toMatchObject({ code: 1, stdout: '', stderr: `roadlink decode: cannot read log ${join(dir, 'absent.log')}: no such file\n` });
    const badDbc = await run(['--dbc', join(dir, 'garbage.dbc'), '-']);
    expect(badDbc).toMatchObject({ code: 1, stderr: `roadlink decode: ${join(dir, 'garbage.dbc')}:1: not a DBC file: unexpected 'garbage': not a DBC statement\n` });
    const missingDbc = await run(['--dbc', join(dir, 'absent.dbc')]);
    expect(missingDbc.code).toBe(1);
    expect(missingDbc.stderr).toBe(`roadlink decode: ${join(dir, 'absent.dbc')}: cannot read DBC file: no such file\n`);
    const noDbc = await run([]);
    expect(noDbc.code).toBe(2);
    expect(noDbc.stderr).toContain('no DBC given');
    const badBus = await run(['--bus', 'can0']);
    expect(badBus.code).toBe(2);
    expect(badBus.stderr).toContain("--bus wants NAME=FILE, got 'can0'");
    const unknownOption = await run(['--dbx', 'x']);
    expect(unknownOption.code).toBe(2);
    for (const r of [missingLog, badDbc, missingDbc, noDbc, badBus, unknownOption]) expect(r.stderr).not.toMatch(/\n\s+at /);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: roadlink decode --dbc FILE');
    rmSync(dir, { recursive: true });
  });
});

describe('Python float repr of the output (as json.dumps writes floats)', () => {
  it.each([
    [0.1, '0.1'],
    [100, '100.0'],
    [-0.08000000000000007, '-0.08000000000000007'],
    [1e16, '1e+16'],
    [1.5e16, '1.5e+16'],
    [1e15, '1000000000000000.0'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.2345e-7, '1.2345e-07'],
    [123456789012345680, '1.2345678901234568e+17'],
    [-0, '-0.0'],
    [Infinity, 'inf'],
  ])('%s -> %s', (value, repr) => {
    expect(pythonFloatRepr(value)).toBe(repr);
  });
});

describe('the byte writer of floats (putFloat) against pythonFloatRepr', () => {
  it('writes the same text for 200,000 doubles of every magnitude, sign, integral or not', () => {
    const buf = new Uint8Array(64);
    const view = new DataView(new ArrayBuffer(8));
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
    const values = [0, -0, 1e-4, 9.999999999999999e-5, 1e16, 9999999999999998, -1e16, 0.1 + 0.2, 100, -2.5, 5e-324, Number.MAX_VALUE];
    for (let n = 0; n < 100_000; n++) {
      view.setUint32(0, next());
      view.setUint32(4, next());
      const random = view.getFloat64(0);
      if (Number.isFinite(random)) values.push(random);
      values.push((next() - 2 ** 31) * 10 ** ((next() % 40) - 20)); // decimal-looking values near the switch points
    }
    for (const x of values) {
      const end = putFloat(buf, 0, x);
      expect(Buffer.from(buf.subarray(0, end)).toString('latin1')).toBe(pythonFloatRepr(x));
    }
  });
});

describe('roadlink binary (built with tsc, spawned)', () => {
  const out = join(repo, '.cache', `cli-test-${process.pid}`);
  beforeAll(async () => {
    // Compile only the CLI and what it imports into a private folder (dist/ is shared with other builds).
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    await promisify(execFile)(process.execPath, [tsc, '--outDir', out, '--rootDir', repo, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--strict', '--skipLibCheck', '--types', 'node', join(repo, 'apps', 'cli', 'main.ts'), join(repo, 'apps', 'cli', 'decode.ts')], { cwd: repo });
  }, 120_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('is a node script that prints help, version, and decodes a log', () => {
    expect(readFileSync(join(repo, 'apps', 'cli', 'main.ts'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    const main = join(out, 'apps', 'cli', 'main.js');
    const version = spawnSync(process.execPath, [main, '--version'], { encoding: 'utf8' });
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version);
    const help = spawnSync(process.execPath, [main, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/commands:\n {2}decode +decode a candump log/);
    const unknown = spawnSync(process.execPath, [main, 'frobnicate'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("roadlink: unknown command 'frobnicate'");
    const decode = spawnSync(process.execPath, [main, 'decode', '--dbc', corpusFile('dbc/opendbc/toyota_iQ_2009_can.dbc'), corpusFile('logs/eldominio/yaris09/steering.log')], { encoding: 'utf8' });
    expect(decode.status).toBe(0);
    expect(decode.stdout).toBe(reference('reference/yaris09_steering.toyota_iQ_2009_can.cantools.jsonl.gz'));
    expect(decode.stderr).toContain('decoded 1128 of 1769 frames');
    // stdout on a file: written straight to the descriptor from one reused buffer.
    const outFile = join(out, 'kona.jsonl');
    const fd = openSync(outFile, 'w');
    const toFile = spawnSync(process.execPath, [main, 'decode', '--dbc', corpusFile('dbc/opendbc/hyundai_can.dbc'), corpusFile('logs/eldominio/kona/turnonlog.log')], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
    closeSync(fd);
    expect(toFile.status).toBe(0);
    expect(readFileSync(outFile, 'utf8')).toBe(reference('reference/kona_turnonlog.hyundai_can.cantools.jsonl.gz'));
    const missing = spawnSync(process.execPath, [main, 'decode', '--dbc', '/nonexistent/x.dbc'], { encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('roadlink decode: /nonexistent/x.dbc: cannot read DBC file: no such file\n');
  });
});
