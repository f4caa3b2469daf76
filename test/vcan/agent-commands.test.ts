// Remote commands end to end on real SocketCAN: the demo vehicle's configuration (DBC and command
// catalog of examples/demo) with its bus on vcan0 and its uplink on a real mosquitto in the VM. A
// backend signs door_lock with Ed25519 and publishes it (sendCommand, as `roadlink command send`);
// `candump -L vcan0`, a separate process, sees the frame the agent writes; a body ECU with a raw CAN
// socket of its own answers with DOOR_STATUS.LockState = LOCKED, or stays silent.
//
// Expected frames, from examples/demo/demo-vehicle.dbc by hand:
//   TCU_BODY_REQUEST (0x500, 2 bytes): LockRequest 0|2 little-endian, LOCK = 2; HornRequest bit 2,
//     LightsFlashRequest bit 3, RequestCounter bits 4-7, all 0                 → 500#0200
//   DOOR_STATUS (0x300, 2 bytes): door bits 7..3 of byte 0 (Motorola) = 0, LockState 15|2 big-endian,
//     i.e. the two top bits of byte 1: UNLOCKED = 1 → 0x40, LOCKED = 2 → 0x80   → 300#0040 / 300#0080
//   VEHICLE_DYNAMICS (0x100, 8 bytes): VehicleSpeed 0|16 little-endian × 0.01 km/h: 0 → 100#00…,
//     50 km/h = 5000 = 0x1388                                                  → 100#8813000000000000
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import mqtt from 'mqtt';
import { createRawChannel } from 'socketcan';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendCommand, type SigningKey } from '../../backend/command-client.js';
import { generateKeyPair, parsePrivateKey } from '../../wire/command-keys.js';
import type { Agent } from '../../agent/runtime/agent.js';
import { CommandState } from '../../proto/gen/roadlink.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { startAgent, tempDir, until } from './agent-harness.js';
import { Candump } from './candump.js';
import { cansend, requireVcan } from './vcan-env.js';

const IFACE = 'vcan0';
const VIN = 'VF1RDLNK000000001';
const DEMO_DIR = resolve(import.meta.dirname, '../../examples/demo');
const LOCK_REQUEST = `${IFACE} 500#0200`;
const CAN_EFF_FLAG = 0x80000000;
const { COMMAND_STATE_IN_PROGRESS: IN_PROGRESS, COMMAND_STATE_SUCCEEDED: SUCCEEDED, COMMAND_STATE_TIMEOUT: TIMEOUT, COMMAND_STATE_REJECTED: REJECTED } = CommandState;

/** The body ECU: its own raw socket on the bus, receiving TCU_BODY_REQUEST only (kernel filter). */
class BodyEcu {
  answering = true;
  readonly requests: string[] = [];
  private readonly channel = createRawChannel(IFACE, true);

  constructor() {
    this.channel.setRxFilters([{ id: 0x500, mask: (0x7ff | CAN_EFF_FLAG) >>> 0 }] as unknown as Record<string, unknown>[]);
    this.channel.addListener('onMessage', (m: { id: number; data: Buffer }) => {
      this.requests.push(m.data.toString('hex'));
      const lock = m.data[0] & 0x3;
      if (this.answering && lock === 2) this.channel.send({ id: 0x300, ext: false, rtr: false, data: Buffer.from([0x00, 0x80]) });
    });
    this.channel.start();
  }

  stop(): void {
    this.channel.stop();
  }
}

/** examples/demo/demo.yaml with its bus on vcan0, its uplink on `broker`, its files in `dir`, a 3 s lock timeout. */
function demoOnVcan(dir: string, broker: string, publicKeyFile: string): string {
  const config = parseDocument(readFileSync(`${DEMO_DIR}/demo.yaml`, 'utf8'));
  config.set('buses', [{ name: 'can0', driver: 'socketcan', interface: IFACE, dbc: [`${DEMO_DIR}/demo-vehicle.dbc`] }]);
  config.setIn(['storage', 'path'], `${dir}/commands.db`);
  config.setIn(['uplink', 'broker'], broker);
  config.setIn(['commands', 'keys'], [{ id: 'backend', public_key_file: publicKeyFile, use: ['commands'] }]);
  config.setIn(['commands', 'audit_log', 'path'], `${dir}/audit.jsonl`);
  config.setIn(['commands', 'catalog', 'door_lock', 'timeout'], '3s');
  return config.toString();
}

let broker: Mosquitto;
let agent: Agent;
let ecu: BodyEcu;
let dump: Candump;
let key: SigningKey;

beforeAll(async () => {
  requireVcan(IFACE);
  const dir = tempDir('commands');
  const pair = generateKeyPair();
  writeFileSync(`${dir}/backend.pub`, pair.publicKeyPem);
  key = { keyId: 'backend', privateKey: parsePrivateKey(pair.privateKeyPem) };
  broker = await Mosquitto.start();
  ({ agent } = await startAgent(demoOnVcan(dir, broker.url, `${dir}/backend.pub`), DEMO_DIR));
  ecu = new BodyEcu();
  dump = await Candump.start([IFACE], `${IFACE} 7FF#`, () => cansend(IFACE, '7FF#'));

  // The agent takes commands once its subscription is in place: a message on cmd/req shows it
  // (garbage, counted as bad, never handled).
  await until('the uplink connected', () => agent.uplink!.stats().connected);
  const probe = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'probe' });
  for (let tries = 0; agent.uplink!.stats().badMessages === 0; tries++) {
    if (tries === 50) throw new Error('the agent never received the probe on cmd/req');
    await probe.publishAsync(`roadlink/v1/${VIN}/cmd/req`, Buffer.from('probe'), { qos: 1 });
    await new Promise((r) => setTimeout(r, 200));
  }
  await probe.endAsync();

  // Parked: speed 0, doors closed, unlocked.
  await cansend(IFACE, '100#0000000000000000');
  await cansend(IFACE, '300#0040');
  await until('the parked state', () => live('Vehicle.Speed') === 0 && live('Vehicle.Cabin.Door.Row1.DriverSide.IsLocked') === 0);
});

afterAll(async () => {
  ecu?.stop();
  await dump?.stop();
  await agent?.stop();
  await broker?.dispose();
});

function live(name: string): number {
  return agent.engine.values[agent.engine.signalId(name)!];
}

/** Frames of `candump -L vcan0` with the TCU_BODY_REQUEST id. */
const lockFrames = () => dump.frames().filter((f) => f.startsWith(`${IFACE} 500#`));

async function doorLock(): Promise<{ states: CommandState[]; reason: string }> {
  const states: CommandState[] = [];
  const outcome = await sendCommand({ broker: { url: broker.url }, key, command: { vin: VIN, name: 'door_lock' }, timeoutMs: 30_000, onResponse: (r) => states.push(r.state) });
  return { states, reason: outcome.final?.reason ?? '' };
}

describe('signed commands from the broker to vcan0 and back', () => {
  it('door_lock writes exactly the expected frame, and the ECU confirmation makes it SUCCEEDED', async () => {
    const { states } = await doorLock();
    expect(states).toEqual([IN_PROGRESS, SUCCEEDED]);
    expect(lockFrames()).toEqual([LOCK_REQUEST]);
    expect(ecu.requests).toEqual(['0200']);
    await dump.waitForFrame((f) => f === `${IFACE} 300#0080`); // the ECU's answer, on the bus too
    expect(live('Vehicle.Cabin.Door.Row1.DriverSide.IsLocked')).toBe(1);
  });

  it('door_lock without an answer from the ECU ends in TIMEOUT', async () => {
    await cansend(IFACE, '300#0040'); // unlocked again
    await until('unlocked', () => live('Vehicle.Cabin.Door.Row1.DriverSide.IsLocked') === 0);
    ecu.answering = false;
    const started = Date.now();
    const { states, reason } = await doorLock();
    expect(states).toEqual([IN_PROGRESS, TIMEOUT]);
    expect(reason).toBe('no_confirmation');
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    expect(lockFrames()).toEqual([LOCK_REQUEST, LOCK_REQUEST]); // the frame went out; nobody answered
    expect(ecu.requests).toEqual(['0200', '0200']);
    ecu.answering = true;
  });

  it('door_lock while moving is REJECTED unsafe:stopped and never reaches the bus', async () => {
    await cansend(IFACE, '100#8813000000000000'); // 50 km/h
    await until('moving', () => live('Vehicle.Speed') === 50);
    const { states, reason } = await doorLock();
    expect(states).toEqual([REJECTED]);
    expect(reason).toBe('unsafe:stopped');
    // candump sees frames in bus order: once a frame sent after the response shows, nothing else came before it.
    await cansend(IFACE, '7FE#');
    await dump.waitForFrame((f) => f === `${IFACE} 7FE#`);
    expect(lockFrames()).toEqual([LOCK_REQUEST, LOCK_REQUEST]);
    expect(ecu.requests).toHaveLength(2);
  });
});
