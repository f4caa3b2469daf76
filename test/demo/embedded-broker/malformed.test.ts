/**
 * Bad input never takes the embedded broker down: malformed packets and protocol violations close
 * the offending connection (with a DISCONNECT reason code once past CONNACK), are counted, and every
 * other client goes on. Ends with seeded fuzzing: random bytes and mutated valid packets.
 */
import { describe, expect, it } from 'vitest';
import { generate, type IConnectPacket, type IDisconnectPacket, type Packet } from 'mqtt-packet';
import { seededRandom } from '../../helpers/seeded-random.js';
import { brokerPerTest, sleep, type TestClient } from './broker-fixture.js';
import { RawClient } from './raw-client.js';
import { waitFor } from '../../uplink/fixtures.js';

/** A pub/sub round trip through the broker, proving it still serves. */
async function stillServes(a: TestClient, b: TestClient, tag: string): Promise<void> {
  await b.client.subscribeAsync(`alive/${tag}`, { qos: 1 });
  await a.client.publishAsync(`alive/${tag}`, tag, { qos: 1 });
  await waitFor(() => b.messages.some((m) => m.payload === tag), `the ${tag} round trip`, 3000);
}

describe('embedded broker: malformed packets and protocol violations', () => {
  const fx = brokerPerTest();

  it('closes a connection sending garbage before CONNECT, and counts it', async () => {
    const raw = await fx.raw();
    raw.sendBytes(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await raw.closed;
    expect(fx.broker.stats()).toMatchObject({ malformedPackets: 1, connections: 0 });
    expect(fx.logged.join('\n')).toMatch(/malformed packet/);
  });

  it('answers a malformed packet after CONNECT with DISCONNECT 0x81, closes, and publishes the will', async () => {
    const watcher = await fx.client();
    await watcher.client.subscribeAsync('wills/#', { qos: 1 });
    const raw = await fx.raw({ clientId: 'broken', will: { topic: 'wills/broken', payload: Buffer.from('x'), qos: 0, retain: false } });
    raw.sendBytes(Buffer.from([0x80, 0x03, 0x00, 0x01, 0x00])); // SUBSCRIBE with header flags 0 (must be 2)
    expect(await raw.next('disconnect')).toMatchObject({ reasonCode: 0x81 });
    await raw.closed;
    await waitFor(() => watcher.messages.length === 1, 'the will');
    expect(fx.broker.stats().malformedPackets).toBe(1);
  });

  it('closes a connection whose first packet is not CONNECT, and refuses a second CONNECT with 0x82', async () => {
    const early = await fx.raw();
    early.send({ cmd: 'publish', topic: 'a', payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
    await early.closed;

    const twice = await fx.raw({ clientId: 'twice' });
    twice.send({ cmd: 'connect', protocolVersion: 5, protocolId: 'MQTT', clean: true, keepalive: 0, clientId: 'twice' });
    expect(await twice.next('disconnect')).toMatchObject({ reasonCode: 0x82, properties: { reasonString: 'unexpected CONNECT' } });
    await twice.closed;
    expect(fx.broker.stats().protocolErrors).toBe(2);
  });

  it('refuses wildcard topics in PUBLISH (0x90), bad topic aliases (0x94, 0x82), and answers a bad filter with SUBACK 0x8F', async () => {
    const cases: [Packet, number][] = [
      [{ cmd: 'publish', topic: 'a/+/b', payload: Buffer.from('x'), qos: 0, retain: false, dup: false }, 0x90],
      [{ cmd: 'publish', topic: 'a', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 65 } }, 0x94],
      [{ cmd: 'publish', topic: '', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 3 } }, 0x82],
    ];
    for (const [packet, reasonCode] of cases) {
      const raw = await fx.raw({});
      raw.send(packet);
      expect(await raw.next('disconnect')).toMatchObject({ reasonCode });
      await raw.closed;
    }
    const raw = await fx.raw({});
    raw.send({ cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: 'ok/+', qos: 1 }, { topic: 'bad/#/x', qos: 1 }, { topic: '$share/g', qos: 0 }, { topic: 'q0', qos: 0 }] });
    expect(await raw.next('suback')).toMatchObject({ messageId: 7, granted: [0x01, 0x8f, 0x8f, 0x00] });
  });

  it('refuses a packet larger than its maximum with 0x95, whether it arrives whole or as a claimed length', async () => {
    const whole = await fx.raw({});
    whole.send({ cmd: 'publish', topic: 'big', payload: Buffer.alloc(5 * 1024 * 1024), qos: 0, retain: false, dup: false });
    expect(await whole.next('disconnect')).toMatchObject({ reasonCode: 0x95 });

    // A header claiming 100 MB, followed by data that never ends: refused once more than 4 MiB is buffered.
    const endless = await fx.raw({});
    endless.sendBytes(Buffer.from([0x30, 0x80, 0xc2, 0xd7, 0x2f])); // PUBLISH, remaining length 100,000,000
    for (let i = 0; i < 5; i++) endless.sendBytes(Buffer.alloc(1024 * 1024));
    expect(await endless.next('disconnect')).toMatchObject({ reasonCode: 0x95 });
    expect(fx.broker.stats().protocolErrors).toBe(2);
  });

  it('survives seeded fuzzing (random bytes, mutated valid packets) with no internal error, and still serves', async () => {
    const a = await fx.client();
    const b = await fx.client();
    const random = seededRandom(20260115);
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => random.int(0, 255)));
    const connect: IConnectPacket = {
      cmd: 'connect', protocolVersion: 5, protocolId: 'MQTT', clean: false, keepalive: 30, clientId: 'fuzz',
      properties: { sessionExpiryInterval: 10, receiveMaximum: 5, topicAliasMaximum: 3, userProperties: { a: 'b' } },
      will: { topic: 'w/t', payload: Buffer.from('w'), qos: 1, retain: true, properties: { willDelayInterval: 0, contentType: 'x' } },
    };
    const valid: Packet[] = [
      { cmd: 'publish', topic: 'alive/fuzz', payload: Buffer.from('payload'), qos: 1, messageId: 9, retain: true, dup: false, properties: { topicAlias: 2, userProperties: { k: 'v' }, messageExpiryInterval: 5 } },
      { cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: '$share/g/a/#', qos: 1, nl: false, rap: true, rh: 1 }, { topic: 'b/+', qos: 0 }] },
      { cmd: 'unsubscribe', messageId: 4, unsubscriptions: ['a/#', 'b/+'] },
      { cmd: 'puback', messageId: 1, reasonCode: 0 },
      { cmd: 'disconnect', reasonCode: 4, properties: { sessionExpiryInterval: 5 } },
    ];
    const mutate = (packet: Buffer) => {
      const out = Buffer.from(packet);
      for (let i = random.int(1, 4); i > 0; i--) out[random.int(0, out.length - 1)] = random.int(0, 255);
      return random.next() < 0.3 ? out.subarray(0, random.int(1, out.length)) : out;
    };

    const raws: RawClient[] = [];
    for (let i = 0; i < 150; i++) {
      const raw = await RawClient.open(fx.broker.port);
      raws.push(raw);
      const kind = i % 3;
      if (kind === 0) raw.sendBytes(bytes(random.int(1, 64)));
      else if (kind === 1) raw.sendBytes(mutate(generate({ ...connect, clientId: `fuzz-${i}` }, { protocolVersion: 5 })));
      else {
        raw.send({ ...connect, clientId: `fuzz-${i}` });
        for (let j = 0; j < 3; j++) raw.sendBytes(mutate(generate(valid[random.int(0, valid.length - 1)], { protocolVersion: 5 })));
      }
    }
    await sleep(300);
    for (const raw of raws) raw.destroy();
    await waitFor(() => fx.broker.stats().connections === 2, 'the fuzz connections to close');

    const stats = fx.broker.stats();
    expect(stats.internalErrors).toBe(0);
    expect(stats.malformedPackets + stats.protocolErrors).toBeGreaterThan(50);
    expect(fx.logged.every((line) => /^embedded broker: (closing|refused) /.test(line))).toBe(true);
    await stillServes(a, b, 'after-fuzz');
  });

  it('says "server shutting down" (0x8B) to connected clients when it closes', async () => {
    const raw = await fx.raw({});
    const closing = fx.broker.close();
    const disconnect = (await raw.next('disconnect')) as IDisconnectPacket;
    expect(disconnect.reasonCode).toBe(0x8b);
    await closing;
  });
});
