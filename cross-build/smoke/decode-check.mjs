// Runs on the build machine's node: writes a small DBC and candump log of its own (chosen physical
// values packed by hand, fixtures.mjs), runs the bundle's `roadlink decode` (the launcher; the environment
// carries ROADLINK_EXEC_PREFIX + QEMU_LD_PREFIX for emulation) and checks every decoded value.
// Prints the time from start to the first decoded frame.
// usage: decode-check.mjs <bundle-dir> <work-dir>
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { writeDecodeLog, writeSmokeDbc } from './fixtures.mjs';

const [bundle, work] = process.argv.slice(2);
if (!bundle || !work) throw new Error('usage: decode-check.mjs <bundle-dir> <work-dir>');
const fail = (message) => {
  console.error(`decode-check: ${message}`);
  process.exit(1);
};

const dbc = writeSmokeDbc(work);
const { path: log, expected } = writeDecodeLog(work);

const started = performance.now();
const child = spawn(join(bundle, 'bin', 'roadlink'), ['decode', '--dbc', dbc, log], { stdio: ['ignore', 'pipe', 'pipe'] });
let stderr = '';
child.stderr.on('data', (chunk) => (stderr += chunk));
const lines = [];
let firstLineMs;
for await (const line of createInterface({ input: child.stdout })) {
  firstLineMs ??= performance.now() - started;
  lines.push(line);
}
const code = await new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('close', resolve)));
const totalMs = performance.now() - started;
if (code !== 0) fail(`roadlink decode exited ${code}: ${stderr.trim()}`);
if (lines.length !== expected.length) fail(`${lines.length} lines decoded, expected ${expected.length}:\n${lines.join('\n')}\n${stderr}`);

const close = (a, b) => Math.abs(a - b) < 1e-9;
lines.forEach((line, i) => {
  const got = JSON.parse(line);
  const want = expected[i];
  if (got.msg !== want.msg || got.ext !== want.ext || got.bus !== 'can0') fail(`line ${i + 1}: ${line}`);
  for (const [name, value] of Object.entries(want.sig)) {
    if (typeof got.sig?.[name] !== 'number' || !close(got.sig[name], value)) fail(`line ${i + 1}: ${name} = ${got.sig?.[name]}, expected ${value}`);
  }
  for (const [name, label] of Object.entries(want.lbl ?? {})) {
    if (got.lbl?.[name] !== label) fail(`line ${i + 1}: ${name} label ${got.lbl?.[name]}, expected ${label}`);
  }
});
console.log(`  ${lines.length} frames decoded with the expected values (1 unknown ID skipped)`);
console.log(`  start to first decoded frame: ${Math.round(firstLineMs)} ms (whole run ${Math.round(totalMs)} ms)`);
