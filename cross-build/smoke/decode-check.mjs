// Runs on the build machine's node: writes a small DBC and candump log of its own (chosen physical
// values packed by hand below), runs the bundle's `roadlink decode` (the launcher; the environment
// carries ROADLINK_EXEC_PREFIX + QEMU_LD_PREFIX for emulation) and checks every decoded value.
// Prints the time from start to the first decoded frame.
// usage: decode-check.mjs <bundle-dir> <work-dir>
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const [bundle, work] = process.argv.slice(2);
if (!bundle || !work) throw new Error('usage: decode-check.mjs <bundle-dir> <work-dir>');
const fail = (message) => {
  console.error(`decode-check: ${message}`);
  process.exit(1);
};

const dbc = join(work, 'smoke.dbc');
writeFileSync(dbc, `VERSION ""

NS_ :

BS_:

BU_: ECU

BO_ 256 ENGINE: 8 ECU
 SG_ EngineSpeed : 0|16@1+ (0.25,0) [0|16383.75] "rpm" Vector__XXX
 SG_ CoolantTemp : 16|8@1+ (1,-40) [-40|215] "degC" Vector__XXX
 SG_ Gear : 24|4@1+ (1,0) [0|15] "" Vector__XXX

BO_ 2566844926 BRAKE: 4 ECU
 SG_ Pressure : 7|16@0- (0.1,0) [-3276.8|3276.7] "bar" Vector__XXX

VAL_ 256 Gear 0 "P" 1 "R" 2 "N" 3 "D" ;
`);

// Payloads packed by hand: ENGINE 3000 rpm (raw 12000 = 0x2EE0, little endian), 90 degC (raw 130 =
// 0x82), gear 3; BRAKE (extended 0x18FEF1FE) -12.5 bar (raw -125 = 0xFF83, big endian); an ID the
// DBC does not define (skipped); ENGINE 812.5 rpm (raw 3250 = 0x0CB2), -40 degC (raw 0), gear 0.
const log = join(work, 'smoke.log');
writeFileSync(log, [
  '(1700000000.000000) can0 100#E02E820300000000',
  '(1700000000.010000) can0 18FEF1FE#FF830000',
  '(1700000000.020000) can0 7FF#0102',
  '(1700000000.030000) can0 100#B20C000000000000',
  '',
].join('\n'));
const expected = [
  { msg: 'ENGINE', ext: false, sig: { EngineSpeed: 3000, CoolantTemp: 90, Gear: 3 }, lbl: { Gear: 'D' } },
  { msg: 'BRAKE', ext: true, sig: { Pressure: -12.5 } },
  { msg: 'ENGINE', ext: false, sig: { EngineSpeed: 812.5, CoolantTemp: -40, Gear: 0 }, lbl: { Gear: 'P' } },
];

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
