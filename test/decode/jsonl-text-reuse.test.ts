/**
 * `roadlink decode` reuses text: a frame that repeats one of its message's recent payloads copies
 * that record's text, and samples equal to the message's last record's are copied from it in runs. A record must
 * come out exactly as a writer with no history writes it, whatever the batches and buffer flushes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFrameBatch } from '../../drivers/can/frame-batch.js';
import { CandumpParser } from '../../drivers/replay/candump-parser.js';
import { loadDbcFile, type DbcDatabase } from '../../agent/decode/dbc-loader.js';
import { Decoder } from '../../agent/decode/decoder.js';
import { createSampleBatch } from '../../agent/decode/sample-batch.js';
import { AsciiBuffer } from '../../apps/cli/ascii-buffer.js';
import { DecodeJsonlWriter } from '../../apps/cli/decode-jsonl.js';
import { corpusFile } from '../helpers/corpus.js';
import { randomBytes, seededRandom } from './decode-one.js';

const fixture = (name: string) => loadDbcFile(join(import.meta.dirname, '..', 'fixtures', 'dbc', name)).db;

/** JSON Lines of `log` through the CLI's pipeline: repeats marked, `batchSize` frames per batch, an output buffer of `capacity` bytes. */
function decodeLog(databases: DbcDatabase[], log: string, batchSize: number, capacity: number, repeats: 'mark' | 'decode'): string {
  const decoder = new Decoder([{ bus: '*', databases }], { compile: 'first-frame', repeats });
  const chunks: Buffer[] = [];
  const writer = new DecodeJsonlWriter(decoder, new AsciiBuffer((bytes) => chunks.push(Buffer.from(bytes)), capacity));
  const samples = createSampleBatch(64);
  const parser = new CandumpParser(createFrameBatch(batchSize), (frames) => {
    samples.count = 0;
    decoder.decode(frames, samples);
    writer.write(frames, samples, parser.idDigits);
  });
  parser.push(Buffer.from(log));
  parser.end();
  writer.flush();
  return Buffer.concat(chunks).toString('latin1');
}

/** Each line decoded by a decoder and writer of its own: no previous record to reuse. */
function decodeLineByLine(databases: DbcDatabase[], log: string): string {
  return log
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => decodeLog(databases, `${line}\n`, 1, 1 << 16, 'decode'))
    .join('');
}

describe('decode output with text reuse', () => {
  it('equals line-by-line decoding on random frames that switch multiplexers, repeat, flip -0 and 0 and change only beyond 53 bits', () => {
    const databases = [fixture('layout.dbc'), fixture('wide.dbc'), fixture('mux.dbc'), fixture('vehicle.dbc')];
    const rand = seededRandom(11);
    // Few payloads per ID, so that frames repeat and most signals keep their value from frame to frame.
    const pool = (length: number, count: number) => Array.from({ length: count }, () => Buffer.from(randomBytes(rand, length)).toString('hex').toUpperCase());
    const payloads: Record<string, string[]> = {
      '100': pool(8, 24), // Layout: more payloads than the decoder keeps per message, so kept ones are replaced
      '200': ['00000000000000000000000000000000', '00000080000000000000000000000000', ...pool(16, 2)], // Floats: +0 / -0 float32
      '310': ['FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF', 'FEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF'], // WideInts: same double, other integers
      '311': ['FFFFFFFFFFFFFF01', 'FFFFFFFFFFFFFF00', ...pool(8, 1)], // WideMixed, with a label
      '300': ['01AABB0000000007', '02AABB0000000007', '03AABB0000000007', '01ABBB0000000007'], // Mux
      '301': ['51AABB', '01AABB', '41AABB', '02AABB', '03AABB', '03AA'], // ExtMux, a short one
      '600': ['0301', '0201', '03'], // Gear, labels, a short one
      '18FEF1FE': ['0200004000', '02000040001F5A0000'], // Engine29, short and full
    };
    const ids = Object.keys(payloads);
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const id = ids[Math.floor(rand() * ids.length)];
      const options = payloads[id];
      const bus = rand() < 0.1 ? 'can1' : 'can0';
      const data = options[Math.floor(rand() * options.length)];
      const frame = data.length > 16 ? `${id}##0${data}` : `${id}#${data}`; // more than 8 bytes: CAN FD
      lines.push(`(${(1 + i / 1000).toFixed(6)}) ${bus} ${frame}`);
    }
    const log = `${lines.join('\n')}\n`;
    const expected = decodeLineByLine(databases, log);
    expect(expected.split('\n').length).toBe(3001); // every frame decoded
    // Batches of 7 frames and a 4 KiB buffer: repeats and runs meet batch ends and flushes.
    expect(decodeLog(databases, log, 7, 4096, 'mark')).toBe(expected);
    expect(decodeLog(databases, log, 1024, 1 << 20, 'mark')).toBe(expected);
  });

  it('equals line-by-line decoding on the first 4,000 frames of the Kona log', () => {
    const databases = [loadDbcFile(corpusFile('dbc/opendbc/hyundai_can.dbc')).db];
    const log = `${readFileSync(corpusFile('logs/eldominio/kona/turnonlog.log'), 'latin1').split('\n').slice(0, 4000).join('\n')}\n`;
    const expected = decodeLineByLine(databases, log);
    expect(decodeLog(databases, log, 64, 8192, 'mark')).toBe(expected);
  });
});
