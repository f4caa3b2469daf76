import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandRequest, CommandResponse, CommandState, SignedCommand } from '../../proto/gen/roadlink.js';
import { signCommand, type CommandSpec } from '../../backend/command-client.js';
import { signBytes } from '../../wire/command-keys.js';
import { Harness, newKey, VIN, type TestKey } from './fixtures.js';

const { IN_PROGRESS, SUCCEEDED, FAILED, TIMEOUT, REJECTED } = {
  IN_PROGRESS: CommandState.COMMAND_STATE_IN_PROGRESS,
  SUCCEEDED: CommandState.COMMAND_STATE_SUCCEEDED,
  FAILED: CommandState.COMMAND_STATE_FAILED,
  TIMEOUT: CommandState.COMMAND_STATE_TIMEOUT,
  REJECTED: CommandState.COMMAND_STATE_REJECTED,
};

const backend = newKey('backend');
const rulesOnly = newKey('rules-signer');
const stranger = newKey('stranger');

let harness: Harness | undefined;
afterEach(() => {
  harness?.dispose();
  harness = undefined;
});

function open(edit?: (commands: Record<string, any>) => void, extra = {}): Harness {
  harness = Harness.create({ keys: [{ key: backend }, { key: rulesOnly, use: ['rules'] }], edit }, extra);
  return harness;
}

function signed(spec: Partial<CommandSpec> & { name: string }, key: TestKey = backend): { id: string; bytes: Uint8Array } {
  const { request, bytes } = signCommand({ vin: VIN, ...spec }, key);
  return { id: request.id, bytes };
}

/** A SignedCommand around request bytes, with any signature and key id. */
function envelope(request: Uint8Array, signature: Uint8Array, keyId: string): Uint8Array {
  return SignedCommand.encode({ request, signature, keyId }).finish();
}

function requestBytes(spec: Partial<CommandSpec> & { name: string }): Uint8Array {
  const now = Date.now();
  return CommandRequest.encode({
    id: spec.id ?? `t-${randomBytes(4).toString('hex')}`,
    vin: spec.vin ?? VIN,
    name: spec.name,
    args: spec.args ?? {},
    issuedAtMs: spec.issuedAtMs ?? now,
    expiresAtMs: (spec.issuedAtMs ?? now) + (spec.ttlMs ?? 30_000),
    nonce: spec.nonce ?? randomBytes(16),
  }).finish();
}

/** A response's fields, defaults included (a created and a decoded message compare equal). */
function plain(response: CommandResponse): Record<string, unknown> {
  return CommandResponse.toObject(response, { defaults: true });
}

function auditLines(h: Harness): Record<string, any>[] {
  return readFileSync(h.auditPath, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
}

describe('executing commands', () => {
  it('locks the doors: frame on the bus, IN_PROGRESS, then SUCCEEDED once the body ECU reports LOCKED', async () => {
    const h = open();
    h.vehicle.park();
    const { id, bytes } = signed({ name: 'door_lock' });
    const result = await h.processor.handle(bytes);
    expect(result.response.state).toBe(IN_PROGRESS);
    const final = await result.final;
    expect(final.state).toBe(SUCCEEDED);
    expect(h.responsesFor(id).map((r) => r.state)).toEqual([IN_PROGRESS, SUCCEEDED]);
    // TCU_BODY_REQUEST (0x500): LockRequest LOCK = 2 in bits 0-1, everything else 0.
    expect(h.vehicle.ecu.sent).toHaveLength(1);
    expect(h.vehicle.ecu.sent[0]).toMatchObject({ bus: 'body', id: 0x500 });
    expect([...h.vehicle.ecu.sent[0].data]).toEqual([0x02, 0x00]);
    expect(h.vehicle.live.value('Roadlink.Body.LockState')).toBe(2);
  });

  it('substitutes an argument: preconditioning_on target_temp_c=22.5 encodes TargetTemperature and waits for AcActive', async () => {
    const h = open();
    h.vehicle.park();
    const { bytes } = signed({ name: 'preconditioning_on', args: { target_temp_c: '22.5' } });
    const final = await (await h.processor.handle(bytes)).final;
    expect(final.state).toBe(SUCCEEDED);
    // AcRequest ON = 2 (bits 0-1); TargetTemperature raw (22.5 + 40) / 0.5 = 125 in byte 1.
    expect([...h.vehicle.ecu.sent[0].data]).toEqual([0x02, 125]);
    expect(h.vehicle.ecu.sentRequests()[0].values).toMatchObject({ AcRequest: 2, TargetTemperature: 22.5 });
  });

  it('uses the default of an omitted argument', async () => {
    const h = open();
    h.vehicle.park();
    expect((await (await h.processor.handle(signed({ name: 'preconditioning_on' }).bytes)).final).state).toBe(SUCCEEDED);
    expect(h.vehicle.ecu.sentRequests()[0].values.TargetTemperature).toBe(21);
  });

  it('times out when the ECU never confirms: TIMEOUT no_confirmation after the frame was sent', async () => {
    const h = open((c) => (c.catalog.door_lock.timeout = '250ms'));
    h.vehicle.park();
    h.vehicle.ecu.answering = false;
    const started = Date.now();
    const final = await (await h.processor.handle(signed({ name: 'door_lock' }).bytes)).final;
    expect(final.state).toBe(TIMEOUT);
    expect(final.reason).toBe('no_confirmation');
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    expect(final.detail).toContain('Roadlink.Body.LockState=1');
    expect(h.vehicle.ecu.sent).toHaveLength(1);
  });

  it('fails when the driver refuses the frames: FAILED send_error, nothing on the bus', async () => {
    const h = open();
    h.vehicle.park();
    h.vehicle.ecu.sendError = new Error('vcan0: bus-off');
    const final = await (await h.processor.handle(signed({ name: 'horn' }).bytes)).final;
    expect(final.state).toBe(FAILED);
    expect(final.reason).toBe('send_error');
    expect(final.detail).toContain('bus-off');
    expect(h.vehicle.ecu.sent).toHaveLength(0);
  });

  it('sends every frame of a multi-frame command in one go, in catalog order', async () => {
    const h = open((c) => {
      c.catalog.welcome = {
        send: [
          { message: 'TCU_BODY_REQUEST', signals: { LockRequest: 'UNLOCK', HornRequest: 0, LightsFlashRequest: 1, RequestCounter: 3 } },
          { message: 'TCU_CLIMATE_REQUEST', signals: { AcRequest: 'ON', TargetTemperature: 20 } },
        ],
        confirm: 'Roadlink.Body.LockState == "UNLOCKED" and Vehicle.Cabin.HVAC.IsAirConditioningActive == 1',
      };
    });
    h.vehicle.park();
    h.vehicle.ecu.broadcast('DOOR_STATUS', { LockState: 'LOCKED' });
    expect((await (await h.processor.handle(signed({ name: 'welcome' }).bytes)).final).state).toBe(SUCCEEDED);
    // Body: UNLOCK 1 | lights bit 3 | counter 3 << 4 = 0x39; climate: ON 2, (20 + 40) / 0.5 = 120.
    expect(h.vehicle.ecu.sent.map((f) => [f.id, [...f.data]])).toEqual([
      [0x500, [0x39, 0x00]],
      [0x510, [0x02, 120]],
    ]);
  });

  it('does not count a confirmation that held before the send: unlock waits for UNLOCKED, not the old state', async () => {
    const h = open((c) => (c.catalog.door_unlock.timeout = '300ms'));
    h.vehicle.park(); // LockState UNLOCKED already
    h.vehicle.ecu.broadcast('DOOR_STATUS', { LockState: 'LOCKED' });
    h.vehicle.ecu.answering = false;
    const final = await (await h.processor.handle(signed({ name: 'door_unlock' }).bytes)).final;
    expect(final.state).toBe(TIMEOUT);
    // Now the ECU answers: a new command succeeds.
    h.vehicle.ecu.answering = true;
    expect((await (await h.processor.handle(signed({ name: 'door_unlock' }).bytes)).final).state).toBe(SUCCEEDED);
  });
});

describe('refusals never reach the bus', () => {
  async function refused(h: Harness, bytes: Uint8Array): Promise<{ reason: string; detail: string }> {
    const before = h.published.length;
    const result = await h.processor.handle(bytes);
    expect(result.response.state).toBe(REJECTED);
    expect((await result.final).state).toBe(REJECTED);
    const published = h.published.slice(before);
    expect(published.map((r) => r.state)).toEqual([REJECTED]);
    return { reason: published[0].reason, detail: published[0].detail };
  }

  it('refuses garbage, unsigned, unknown-key, wrongly signed and tampered messages', async () => {
    const h = open();
    h.vehicle.park();
    const body = requestBytes({ name: 'door_lock' });
    expect((await refused(h, Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x07]))).reason).toBe('malformed');
    expect((await refused(h, Buffer.from('{"name":"door_lock"}'))).reason).toBe('malformed');
    expect((await refused(h, envelope(body, new Uint8Array(0), 'backend'))).reason).toBe('unsigned');
    expect((await refused(h, envelope(body, signBytes(backend.privateKey, body), ''))).reason).toBe('unsigned');
    expect((await refused(h, envelope(body, signBytes(stranger.privateKey, body), 'stranger'))).reason).toBe('unknown_key');
    expect((await refused(h, envelope(body, signBytes(stranger.privateKey, body), 'backend'))).reason).toBe('bad_signature');
    expect((await refused(h, envelope(body, signBytes(rulesOnly.privateKey, body), 'rules-signer'))).reason).toBe('key_not_allowed');
    // Signed door_lock, request bytes changed to horn afterwards.
    const tampered = requestBytes({ name: 'horn' });
    expect((await refused(h, envelope(tampered, signBytes(backend.privateKey, body), 'backend'))).reason).toBe('bad_signature');
    // Signed, but the signed bytes are not a CommandRequest.
    const junk = Uint8Array.from([0x0a, 0xff]);
    expect((await refused(h, envelope(junk, signBytes(backend.privateKey, junk), 'backend'))).reason).toBe('malformed');
    expect(h.vehicle.ecu.sent).toHaveLength(0);
  });

  it('names the unverified id in a refusal, except the id of a genuine command (a forgery cannot make it look refused)', async () => {
    const h = open();
    h.vehicle.park();
    h.vehicle.ecu.answering = false;
    const genuine = signed({ name: 'door_lock' });
    const running = await h.processor.handle(genuine.bytes);
    const forgedBody = requestBytes({ name: 'door_lock', id: genuine.id });
    const forged = await h.processor.handle(envelope(forgedBody, signBytes(stranger.privateKey, forgedBody), 'backend'));
    expect(forged.response).toMatchObject({ id: '', state: REJECTED, reason: 'bad_signature' });
    const otherBody = requestBytes({ name: 'horn', id: 'not-seen-before' });
    const other = await h.processor.handle(envelope(otherBody, signBytes(stranger.privateKey, otherBody), 'backend'));
    expect(other.response).toMatchObject({ id: 'not-seen-before', reason: 'bad_signature' });
    expect(h.responsesFor(genuine.id).map((r) => r.state)).toEqual([IN_PROGRESS]);
    h.vehicle.ecu.broadcast('DOOR_STATUS', { LockState: 'LOCKED' });
    expect((await running.final).state).toBe(SUCCEEDED);
    expect(h.vehicle.ecu.sent).toHaveLength(1);
  });

  it('refuses requests with missing or bad fields', async () => {
    const h = open();
    h.vehicle.park();
    const sign = (bytes: Uint8Array) => envelope(bytes, signBytes(backend.privateKey, bytes), 'backend');
    expect((await refused(h, sign(requestBytes({ name: 'door_lock', nonce: randomBytes(4) })))).detail).toContain('nonce');
    expect((await refused(h, sign(requestBytes({ name: 'door_lock', id: 'has space' })))).reason).toBe('malformed');
    expect((await refused(h, sign(requestBytes({ name: 'door_lock', ttlMs: 0 })))).reason).toBe('malformed');
    expect(h.vehicle.ecu.sent).toHaveLength(0);
  });

  it('refuses the wrong vehicle, expired, future and too long-lived commands (clock skew 30 s tolerated)', async () => {
    const h = open();
    h.vehicle.park();
    const now = Date.now();
    expect((await refused(h, signed({ name: 'door_lock', vin: 'WVWZZZ1JZXW000001' }).bytes)).reason).toBe('wrong_vin');
    expect((await refused(h, signed({ name: 'door_lock', issuedAtMs: now - 120_000, ttlMs: 60_000 }).bytes)).reason).toBe('expired');
    expect((await refused(h, signed({ name: 'door_lock', issuedAtMs: now + 120_000 }).bytes)).reason).toBe('not_yet_valid');
    expect((await refused(h, signed({ name: 'door_lock', ttlMs: 10 * 60_000 }).bytes)).reason).toBe('lifetime_too_long');
    expect(h.vehicle.ecu.sent).toHaveLength(0);
    // Within the skew: issued 10 s ahead, expired 10 s ago: both accepted.
    expect((await (await h.processor.handle(signed({ name: 'horn', issuedAtMs: now + 10_000 }).bytes)).final).state).toBe(SUCCEEDED);
    expect((await (await h.processor.handle(signed({ name: 'lights_flash', issuedAtMs: now - 40_000 }).bytes)).final).state).toBe(SUCCEEDED);
  });

  it('refuses a replayed nonce under a new id', async () => {
    const h = open();
    h.vehicle.park();
    const nonce = randomBytes(16);
    expect((await (await h.processor.handle(signed({ name: 'horn', nonce }).bytes)).final).state).toBe(SUCCEEDED);
    expect((await refused(h, signed({ name: 'horn', nonce }).bytes)).reason).toBe('replayed');
    expect(h.vehicle.ecu.sent).toHaveLength(1);
  });

  it('refuses unknown commands and unusable arguments', async () => {
    const h = open();
    h.vehicle.park();
    expect((await refused(h, signed({ name: 'self_destruct' }).bytes)).reason).toBe('unknown_command');
    const bad = async (args: Record<string, string>) => refused(h, signed({ name: 'preconditioning_on', args }).bytes);
    expect(await bad({ target_temp_c: '40' })).toMatchObject({ reason: 'bad_args', detail: expect.stringContaining('maximum 28') });
    expect(await bad({ target_temp_c: 'warm' })).toMatchObject({ reason: 'bad_args', detail: expect.stringContaining('not a number') });
    expect(await bad({ temperature: '21' })).toMatchObject({ reason: 'bad_args', detail: expect.stringContaining('unknown argument') });
    expect(h.vehicle.ecu.sent).toHaveLength(0);
  });

  it('checks arguments against the DBC range when the schema does not bound them', async () => {
    const h = open((c) => {
      c.catalog.climate_raw = {
        args: { t: { type: 'number' } },
        send: [{ message: 'TCU_CLIMATE_REQUEST', signals: { AcRequest: 'ON', TargetTemperature: { arg: 't' } } }],
      };
    });
    h.vehicle.park();
    // TargetTemperature is [-40|87.5] degC in the DBC.
    expect(await refused(h, signed({ name: 'climate_raw', args: { t: '95' } }).bytes)).toMatchObject({
      reason: 'bad_args',
      detail: expect.stringContaining('[-40|87.5]'),
    });
    expect(h.vehicle.ecu.sent).toHaveLength(0);
    expect((await (await h.processor.handle(signed({ name: 'climate_raw', args: { t: '87.5' } }).bytes)).final).state).toBe(SUCCEEDED);
  });

  it('refuses unsafe commands: moving, door open, ignition on, or a safety signal never received', async () => {
    const h = open();
    const unsafe = async (name: string) => refused(h, signed({ name }).bytes);
    expect(await unsafe('door_lock')).toMatchObject({ reason: 'unsafe:stopped', detail: expect.stringContaining('Vehicle.Speed=unknown') });
    h.vehicle.park();
    h.vehicle.ecu.broadcast('VEHICLE_DYNAMICS', { VehicleSpeed: 30 });
    expect(await unsafe('door_lock')).toMatchObject({ reason: 'unsafe:stopped', detail: expect.stringContaining('Vehicle.Speed=30') });
    h.vehicle.ecu.broadcast('VEHICLE_DYNAMICS', { VehicleSpeed: 0 });
    h.vehicle.ecu.broadcast('DOOR_STATUS', { RearLeftDoorOpen: 1 });
    expect((await unsafe('door_lock')).reason).toBe('unsafe:doors_closed');
    h.vehicle.ecu.broadcast('IGNITION_STATUS', { IgnitionState: 'ON' });
    expect((await unsafe('preconditioning_on')).reason).toBe('unsafe:ignition_off');
    expect(h.vehicle.ecu.sent).toHaveLength(0);
  });
});

describe('repeated ids, restarts and limits', () => {
  it('answers a repeated id with the first result, without a second frame', async () => {
    const h = open();
    h.vehicle.park();
    const { id, bytes } = signed({ name: 'door_lock' });
    const first = await (await h.processor.handle(bytes)).final;
    const firstBytes = h.publishedBytes.at(-1)!;
    const again = await h.processor.handle(bytes);
    expect(plain(again.response)).toEqual(plain(first));
    expect(h.publishedBytes.at(-1)).toEqual(firstBytes);
    expect(h.responsesFor(id).map((r) => r.state)).toEqual([IN_PROGRESS, SUCCEEDED, SUCCEEDED]);
    expect(h.vehicle.ecu.sent).toHaveLength(1);
    expect(h.processor.stats().duplicates).toBe(1);
  });

  it('answers a repeated id while the first runs with IN_PROGRESS, and both end with its result', async () => {
    const h = open();
    h.vehicle.park();
    h.vehicle.ecu.answering = false;
    const { bytes } = signed({ name: 'door_lock' });
    const a = await h.processor.handle(bytes);
    const b = await h.processor.handle(bytes);
    expect(b.response.state).toBe(IN_PROGRESS);
    h.vehicle.ecu.broadcast('DOOR_STATUS', { LockState: 'LOCKED' });
    expect((await a.final).state).toBe(SUCCEEDED);
    expect(plain(await b.final)).toEqual(plain(await a.final));
    expect(h.vehicle.ecu.sent).toHaveLength(1);
  });

  it('remembers ids and nonces across a restart (store reopened from its file)', async () => {
    const h = open();
    h.vehicle.park();
    const nonce = randomBytes(16);
    const { id, bytes } = signed({ name: 'door_lock', nonce });
    const first = await (await h.processor.handle(bytes)).final;
    h.reopen();
    const replay = await h.processor.handle(bytes);
    expect(plain(replay.response)).toEqual(plain(first));
    expect((await h.processor.handle(signed({ name: 'door_lock', nonce }).bytes)).response.reason).toBe('replayed');
    expect(h.vehicle.ecu.sent).toHaveLength(1);
    expect(h.responsesFor(id).map((r) => r.state)).toEqual([IN_PROGRESS, SUCCEEDED, SUCCEEDED]);
    // A fresh command still runs.
    expect((await (await h.processor.handle(signed({ name: 'door_unlock' }).bytes)).final).state).toBe(SUCCEEDED);
  });

  it('reports a command cut short by a crash as FAILED interrupted after the restart, never runs it again', async () => {
    const h = open();
    h.vehicle.park();
    h.vehicle.ecu.answering = false;
    const { bytes } = signed({ name: 'door_lock' });
    expect((await h.processor.handle(bytes)).response.state).toBe(IN_PROGRESS);
    const crashed = h.processor;
    h.reopen({ clean: false }); // the store closes under the running command, as in a crash
    const after = await h.processor.handle(bytes);
    expect(after.response.state).toBe(FAILED);
    expect(after.response.reason).toBe('interrupted');
    expect(h.vehicle.ecu.sent).toHaveLength(1);
    crashed.close();
  });

  it('forgets an id once past expiry + skew + remember time; the same bytes are then refused as expired', async () => {
    let now = Date.now();
    const h = open(undefined, { now: () => now });
    h.vehicle.park();
    const { bytes } = signed({ name: 'horn', issuedAtMs: now, ttlMs: 30_000 });
    expect((await (await h.processor.handle(bytes)).final).state).toBe(SUCCEEDED);
    now += 30_000 + 30_000 + 15 * 60_000 + 1;
    // Any accepted command prunes.
    expect((await (await h.processor.handle(signed({ name: 'lights_flash', issuedAtMs: now }).bytes)).final).state).toBe(SUCCEEDED);
    h.reopen();
    expect((await h.processor.handle(bytes)).response.reason).toBe('expired');
    expect(h.vehicle.ecu.sent).toHaveLength(2);
  });

  it('limits commands in progress (busy) and runs one command per group at a time (conflict)', async () => {
    const h = open();
    h.vehicle.park();
    h.vehicle.ecu.answering = false;
    const lock = await h.processor.handle(signed({ name: 'door_lock' }).bytes);
    expect(lock.response.state).toBe(IN_PROGRESS);
    const unlock = await h.processor.handle(signed({ name: 'door_unlock' }).bytes);
    expect(unlock.response).toMatchObject({ state: REJECTED, reason: 'conflict' });
    expect((await h.processor.handle(signed({ name: 'horn' }).bytes)).response.state).toBe(IN_PROGRESS);
    expect((await h.processor.handle(signed({ name: 'lights_flash' }).bytes)).response).toMatchObject({ state: REJECTED, reason: 'busy' });
    expect(h.vehicle.ecu.sentRequests().map((r) => r.values)).toEqual([
      expect.objectContaining({ LockRequest: 2 }),
      expect.objectContaining({ HornRequest: 1 }),
    ]);
    // Once the door command ends, the group is free again.
    h.vehicle.ecu.broadcast('DOOR_STATUS', { LockState: 'LOCKED' });
    expect((await lock.final).state).toBe(SUCCEEDED);
    h.vehicle.ecu.answering = true;
    expect((await (await h.processor.handle(signed({ name: 'door_unlock' }).bytes)).final).state).toBe(SUCCEEDED);
    expect(h.processor.stats()).toMatchObject({ inProgress: 1, rejected: 2, byReason: { conflict: 1, busy: 1 } });
  });
});

describe('audit log and counters', () => {
  it('writes every decision as a JSON line: refusals, acceptance with arguments, frames, states', async () => {
    const h = open();
    h.vehicle.park();
    const body = requestBytes({ name: 'door_lock' });
    await h.processor.handle(envelope(body, signBytes(stranger.privateKey, body), 'backend'));
    const { id, bytes } = signed({ name: 'preconditioning_on', args: { target_temp_c: '19' } });
    await (await h.processor.handle(bytes)).final;
    await h.processor.handle(bytes);

    const lines = auditLines(h);
    expect(lines.every((l) => typeof l.time === 'string' && !Number.isNaN(Date.parse(l.time)))).toBe(true);
    expect(lines[0]).toMatchObject({ event: 'refused', reason: 'bad_signature', state: 'REJECTED', key_id: 'backend' });
    const mine = lines.filter((l) => l.id === id);
    expect(mine.map((l) => [l.event, l.state])).toEqual([
      ['accepted', undefined],
      ['state', 'IN_PROGRESS'],
      ['frames', undefined],
      ['state', 'SUCCEEDED'],
      ['duplicate', 'SUCCEEDED'],
    ]);
    expect(mine[0]).toMatchObject({ name: 'preconditioning_on', args: { target_temp_c: '19' }, key_id: 'backend' });
    // TargetTemperature (19 + 40) / 0.5 = 118 = 0x76.
    expect(mine[2].frames).toEqual([{ bus: 'body', id: 0x510, data: '0276' }]);
    expect(h.processor.stats()).toMatchObject({ received: 3, accepted: 1, succeeded: 1, rejected: 1, duplicates: 1, byReason: { bad_signature: 1 } });
  });

  it('rotates the audit log by size and keeps the configured number of files', async () => {
    const h = open((c) => (c.audit_log = { path: 'audit/commands.jsonl', max_size: 4096, keep: 2 }));
    for (let i = 0; i < 120; i++) await h.processor.handle(Uint8Array.from([0xff, i]));
    const path = h.auditPath;
    for (const file of [path, `${path}.1`, `${path}.2`]) {
      expect(existsSync(file)).toBe(true);
      expect(statSync(file).size).toBeLessThanOrEqual(4096);
      for (const line of readFileSync(file, 'utf8').trim().split('\n')) expect(JSON.parse(line)).toMatchObject({ event: 'refused', reason: 'malformed' });
    }
    expect(existsSync(`${path}.3`)).toBe(false);
  });

  it('keeps executing when publishing a response fails, and counts the failures', async () => {
    const h = open(undefined, { publish: () => Promise.reject(new Error('offline')) });
    h.vehicle.park();
    expect((await (await h.processor.handle(signed({ name: 'horn' }).bytes)).final).state).toBe(SUCCEEDED);
    await new Promise((r) => setImmediate(r));
    expect(h.processor.stats().publishErrors).toBe(2);
  });
});
