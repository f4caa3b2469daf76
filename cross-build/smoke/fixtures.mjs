// Test inputs the smoke checks write for themselves (no corpus file is read): a small DBC, candump
// logs whose payloads are packed by hand from chosen physical values, and an agent config.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SMOKE_DBC = `VERSION ""

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
`;

/** Writes smoke.dbc into `dir`; returns its path. */
export function writeSmokeDbc(dir) {
  const path = join(dir, 'smoke.dbc');
  writeFileSync(path, SMOKE_DBC);
  return path;
}

const hex = (bytes) => bytes.map((b) => b.toString(16).padStart(2, '0')).join('').toUpperCase();

/** ENGINE payload: speed (rpm, 0.25/bit, little endian), coolant (degC, offset -40), gear (low nibble of byte 3). */
export function enginePayload(rpm, coolantC, gear) {
  const raw = Math.round(rpm / 0.25);
  return hex([raw & 0xff, raw >> 8, coolantC + 40, gear & 0x0f, 0, 0, 0, 0]);
}

/** BRAKE payload: pressure (bar, 0.1/bit, signed 16-bit big endian in bytes 0-1). */
export function brakePayload(bar) {
  const raw = Math.round(bar / 0.1) & 0xffff;
  return hex([raw >> 8, raw & 0xff, 0, 0]);
}

/**
 * Writes decode.log: two ENGINE frames, one extended BRAKE frame and one ID the DBC does not define.
 * Returns its path and the lines `roadlink decode` must print for it.
 */
export function writeDecodeLog(dir) {
  const path = join(dir, 'decode.log');
  writeFileSync(path, [
    `(1700000000.000000) can0 100#${enginePayload(3000, 90, 3)}`,
    `(1700000000.010000) can0 18FEF1FE#${brakePayload(-12.5)}`,
    '(1700000000.020000) can0 7FF#0102',
    `(1700000000.030000) can0 100#${enginePayload(812.5, -40, 0)}`,
    '',
  ].join('\n'));
  const expected = [
    { msg: 'ENGINE', ext: false, sig: { EngineSpeed: 3000, CoolantTemp: 90, Gear: 3 }, lbl: { Gear: 'D' } },
    { msg: 'BRAKE', ext: true, sig: { Pressure: -12.5 } },
    { msg: 'ENGINE', ext: false, sig: { EngineSpeed: 812.5, CoolantTemp: -40, Gear: 0 }, lbl: { Gear: 'P' } },
  ];
  return { path, expected };
}

const DRIVE_LOG_HZ = 10;
const driveRpm = (i) => 800 + ((i * 11) % 2200);
/** Engine speeds drive.log carries (at most 60 s of it): 800 rpm rising by 11 per frame, wrapping below 3000. */
export const DRIVE_LOG_RPMS = new Set(Array.from({ length: 60 * DRIVE_LOG_HZ }, (_, i) => driveRpm(i)));

/** Writes drive.log: `seconds` (<= 60) of ENGINE frames at 10 Hz, engine speed ramping 800 -> 3000 rpm. */
export function writeDriveLog(dir, seconds) {
  const path = join(dir, 'drive.log');
  const lines = [];
  for (let i = 0; i < seconds * DRIVE_LOG_HZ; i++) {
    const t = (1700000000 + i / DRIVE_LOG_HZ).toFixed(6);
    lines.push(`(${t}) can0 100#${enginePayload(driveRpm(i), 85, 3)}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

export const SMOKE_VIN = 'RDLNKSM0KE0000001';

/** Writes agent.yaml: one replayed bus, one signal, a 1 s regular rule, the store, the broker. */
export function writeAgentConfig(dir, { dbc, log, db, brokerUrl }) {
  const path = join(dir, 'agent.yaml');
  writeFileSync(path, `vehicle:
  vin: ${SMOKE_VIN}
  brand: Roadlink
  model: Smoke test
  fuel_type: petrol
  model_year: 2024
buses:
  - name: body
    driver: replay
    log: ${JSON.stringify(log)}
    speed: 1
    loop: true
    dbc: [${JSON.stringify(dbc)}]
signals:
  Vehicle.Powertrain.CombustionEngine.Speed: { source: ENGINE.EngineSpeed, unit: rpm }
rules:
  - name: engine
    type: regular
    period: 1s
    signals: [Vehicle.Powertrain.CombustionEngine.Speed]
storage:
  path: ${JSON.stringify(db)}
  commit_interval: 1s
uplink:
  broker: ${brokerUrl}
  keepalive: 5s
`);
  return path;
}
