/**
 * TLS with client certificates against a real mosquitto (require_certificate, use_identity_as_username)
 * and the per-vehicle ACL (test/helpers/mosquitto.ts vehicleAcl): vehicle A cannot write B's topics
 * nor read B's commands; the backend identity reads everything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { readFileSync } from 'node:fs';
import { Uplink } from '../../agent/uplink/uplink.js';
import { Receiver } from '../../backend/receiver.js';
import type { BrokerOptions } from '../../wire/broker-options.js';
import { SignedCommand } from '../../proto/gen/roadlink.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { vehicleAcl } from '../helpers/mosquitto.js';
import { brokerForSuite, fillSamples, lineCollector, missingOrWrong, openTestStore, receivedSamples, SIGNALS, VIN_A, VIN_B, waitFor } from './fixtures.js';

const BACKEND = 'roadlink-backend';
const quiet = () => undefined;

describe('TLS with client certificates and a per-vehicle ACL', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makeTestPki([VIN_A, VIN_B, BACKEND]);
  });
  afterAll(() => pki?.dispose());
  const suite = brokerForSuite(() => ({
    tls: { caFile: pki.caFile, certFile: pki.server.certFile, keyFile: pki.server.keyFile },
    acl: vehicleAcl(BACKEND),
  }));
  const cleanups = suite.cleanups;

  const brokerAs = (cn: string): BrokerOptions => ({
    url: suite.broker.url,
    tls: { caFile: pki.caFile, certFile: pki.clients[cn].certFile, keyFile: pki.clients[cn].keyFile },
  });

  function rawOptions(cn: string | undefined, clientId: string): IClientOptions {
    return {
      protocolVersion: 5,
      clientId,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ca: readFileSync(pki.caFile),
      ...(cn ? { cert: readFileSync(pki.clients[cn].certFile), key: readFileSync(pki.clients[cn].keyFile) } : {}),
    };
  }

  async function rawClient(cn: string, clientId: string): Promise<MqttClient> {
    const client = await mqtt.connectAsync(suite.broker.url, rawOptions(cn, clientId));
    cleanups.push(() => client.endAsync(true));
    return client;
  }

  it('uploads over TLS with the vehicle certificate; the backend certificate receives', async () => {
    const t = openTestStore();
    cleanups.push(t.dispose);
    const sent = fillSamples(t.store, 5000, 1000);
    const out = lineCollector();
    const receiver = new Receiver({ broker: brokerAs(BACKEND), writeLine: out.writeLine, log: quiet });
    await receiver.start();
    cleanups.push(() => receiver.stop().then(() => undefined));
    const uplink = new Uplink({ vin: VIN_A, broker: brokerAs(VIN_A), store: t.store, checkin: () => ({ signals: SIGNALS }), log: quiet });
    cleanups.push(() => uplink.stop());
    uplink.start();
    await waitFor(() => (receiver.summary().vehicles[VIN_A]?.data?.received ?? 0) === sent.length, 'every sample over TLS');
    expect(missingOrWrong(sent, receivedSamples(out.lines))).toEqual([]);
    expect(receiver.summary().vehicles[VIN_A].data.holes).toEqual([]);
  });

  it('refuses a client without a certificate and one whose CA is not trusted', async () => {
    const noCert = mqtt.connect(suite.broker.url, rawOptions(undefined, 'no-cert'));
    cleanups.push(() => noCert.endAsync(true));
    const failed = await new Promise<boolean>((resolve) => {
      noCert.once('connect', () => resolve(false));
      noCert.once('error', () => resolve(true));
      noCert.once('close', () => resolve(true));
    });
    expect(failed).toBe(true);
    expect(noCert.connected).toBe(false);

    // The uplink itself with a wrong CA: it never connects (the broker certificate fails verification).
    const t = openTestStore();
    cleanups.push(t.dispose);
    const errors: string[] = [];
    const uplink = new Uplink({
      vin: VIN_A,
      broker: { ...brokerAs(VIN_A), tls: { ...brokerAs(VIN_A).tls, caFile: pki.clients[VIN_B].certFile } },
      store: t.store,
      checkin: () => ({}),
      backoff: { initialMs: 50, maxMs: 100 },
      log: (_level, message) => errors.push(message),
    });
    cleanups.push(() => uplink.stop());
    uplink.start();
    await waitFor(() => uplink.stats().disconnects >= 2, 'two failed attempts');
    expect(uplink.stats().connects).toBe(0);
    expect(errors.join('\n')).toMatch(/certificate/i);
  });

  it("keeps vehicle A off vehicle B's topics: no publishing as B, no reading B's commands", async () => {
    const backend = await rawClient(BACKEND, 'backend-observer');
    const seenByBackend: string[] = [];
    backend.on('message', (topic) => seenByBackend.push(topic));
    await backend.subscribeAsync('roadlink/v1/#', { qos: 1 });

    const a = await rawClient(VIN_A, VIN_A);
    // Publishing into B's data topic: the broker does not forward it (MQTT 5: PUBACK "not authorized").
    const publishToB = await a.publishAsync(`roadlink/v1/${VIN_B}/data`, Buffer.from('forged'), { qos: 1 }).then(
      (packet) => packet?.reasonCode ?? 0,
      (err: Error & { code?: number }) => err.code ?? -1,
    );
    // Subscribing to B's commands: mosquitto grants the subscription but checks read access per
    // message, so nothing of B's ever reaches A (asserted below).
    await a.subscribeAsync(`roadlink/v1/${VIN_B}/cmd/req`, { qos: 1 });
    const aGot: string[] = [];
    a.on('message', (topic) => aGot.push(topic));

    // Vehicle B (its own certificate) does get its command; the backend sees nothing forged.
    const b = await rawClient(VIN_B, VIN_B);
    const bGot: string[] = [];
    b.on('message', (topic) => bGot.push(topic));
    await b.subscribeAsync(`roadlink/v1/${VIN_B}/cmd/req`, { qos: 1 });
    const command = SignedCommand.encode({ request: Buffer.from('lock'), signature: Buffer.alloc(64) }).finish();
    await backend.publishAsync(`roadlink/v1/${VIN_B}/cmd/req`, Buffer.from(command), { qos: 1 });
    // A publishing its own data is allowed (control: the ACL is not simply closed).
    await a.publishAsync(`roadlink/v1/${VIN_A}/data`, Buffer.from('own'), { qos: 1 });
    await waitFor(() => bGot.length === 1 && seenByBackend.includes(`roadlink/v1/${VIN_A}/data`), "B's command and A's own data");
    await new Promise((r) => setTimeout(r, 200));

    expect(publishToB).toBe(0x87);
    expect(aGot).toEqual([]);
    expect(seenByBackend).not.toContain(`roadlink/v1/${VIN_B}/data`);
  });

  it('an uplink whose certificate does not match its VIN gets every publish refused and keeps its rows', async () => {
    const t = openTestStore();
    cleanups.push(t.dispose);
    fillSamples(t.store, 2000, 1000);
    const errors: string[] = [];
    const uplink = new Uplink({
      vin: VIN_B,
      broker: brokerAs(VIN_A),
      store: t.store,
      checkin: () => ({ signals: SIGNALS }),
      log: (_level, message) => errors.push(message),
    });
    cleanups.push(() => uplink.stop());
    uplink.start();
    // The two contiguous rows travel merged in one message: one refusal covers both.
    await waitFor(() => uplink.stats().rejectedPublishes === 1, 'the merged message refused');
    await new Promise((r) => setTimeout(r, 300));
    t.store.flush();
    expect(uplink.stats()).toMatchObject({ ackedRows: 0, rejectedPublishes: 1, mergedRows: 2, connected: true });
    expect(t.store.stats().storedRows).toBe(2);
    expect(errors.join('\n')).toMatch(/refused rows .*Not authorized/i);
  });
});
