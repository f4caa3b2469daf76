/**
 * The embedded broker with real mqtt.js MQTT 5 clients: wildcards, QoS 1, retained messages, wills,
 * persistent sessions, flow control, shared subscriptions, topic aliases, forwarded properties.
 * Expected results are written from the MQTT 5 specification (section numbers in the test names).
 */
import { describe, expect, it } from 'vitest';
import type { IPubackPacket, IPublishPacket, Packet } from 'mqtt-packet';
import { brokerPerTest, sleep } from './broker-fixture.js';
import { waitFor } from '../../uplink/fixtures.js';

const persistent = (clientId: string, expiryS = 60) => ({ clientId, clean: false, properties: { sessionExpiryInterval: expiryS } });

describe('embedded broker: publish / subscribe', () => {
  const fx = brokerPerTest();

  it('matches + and # wildcards, and keeps $ topics away from leading wildcards (§4.7)', async () => {
    const filters = ['sensors/+/temp', 'sensors/#', '#', '+/+', '$SYS/#'];
    const subs = await Promise.all(filters.map(() => fx.client()));
    for (const [i, s] of subs.entries()) await s.client.subscribeAsync(filters[i], { qos: 1 });
    const pub = await fx.client();
    const topics = ['sensors/k1/temp', 'sensors/k1/humidity', 'sensors', 'sensors/k1', 'other/x/temp', '$SYS/uptime', 'sensors//temp'];
    for (const topic of topics) await pub.client.publishAsync(topic, topic, { qos: 1 });

    const expected: Record<string, string[]> = {
      'sensors/+/temp': ['sensors/k1/temp', 'sensors//temp'],
      'sensors/#': ['sensors/k1/temp', 'sensors/k1/humidity', 'sensors', 'sensors/k1', 'sensors//temp'],
      '#': ['sensors/k1/temp', 'sensors/k1/humidity', 'sensors', 'sensors/k1', 'other/x/temp', 'sensors//temp'],
      '+/+': ['sensors/k1'],
      '$SYS/#': ['$SYS/uptime'],
    };
    for (const [i, s] of subs.entries()) await waitFor(() => s.messages.length >= expected[filters[i]].length, `messages of ${filters[i]}`);
    await sleep(100); // nothing more arrives
    for (const [i, s] of subs.entries()) expect(s.messages.map((m) => m.topic), filters[i]).toEqual(expected[filters[i]]);
  });

  it('acknowledges QoS 1 (PUBACK 0x10 when nobody subscribes), delivers at the lower of the two QoS, grants QoS 2 as 1', async () => {
    const sub1 = await fx.client();
    const sub0 = await fx.client();
    expect(await sub1.client.subscribeAsync('q/#', { qos: 2 })).toMatchObject([{ topic: 'q/#', qos: 1 }]);
    await sub0.client.subscribeAsync('q/#', { qos: 0 });
    const pub = await fx.client();
    const pubacks: IPubackPacket[] = [];
    pub.client.on('packetreceive', (p: Packet) => p.cmd === 'puback' && pubacks.push(p));

    await pub.client.publishAsync('q/a', 'one', { qos: 1 });
    await pub.client.publishAsync('nobody/listens', 'two', { qos: 1 });
    expect(pubacks.map((p) => p.reasonCode ?? 0)).toEqual([0x00, 0x10]);

    await waitFor(() => sub1.messages.length === 1 && sub0.messages.length === 1, 'both subscribers');
    expect(sub1.messages[0].packet).toMatchObject({ topic: 'q/a', qos: 1, dup: false });
    expect(sub1.messages[0].packet.messageId).toBeGreaterThan(0);
    expect(sub0.messages[0].packet.qos).toBe(0);
    expect(fx.broker.stats()).toMatchObject({ messagesIn: 2, messagesOut: 2, noSubscriberMessages: 1 });
  });

  it('keeps the last retained message per topic, clears it with an empty payload, sends it on subscribe (§3.3.1.3, §3.8.3.1)', async () => {
    const pub = await fx.client();
    await pub.client.publishAsync('r/a', 'A', { qos: 1, retain: true });
    await pub.client.publishAsync('r/b', 'B0', { qos: 0, retain: true });
    await pub.client.publishAsync('r/b', 'B', { qos: 0, retain: true });
    await waitFor(() => fx.broker.stats().retainedMessages === 2, 'two retained messages');

    const late = await fx.client();
    await late.client.subscribeAsync('r/+', { qos: 1 });
    await waitFor(() => late.messages.length === 2, 'the retained messages');
    expect(late.messages.map((m) => [m.topic, m.payload, m.packet.retain, m.packet.qos]).sort()).toEqual([
      ['r/a', 'A', true, 1],
      ['r/b', 'B', true, 0],
    ]);

    await pub.client.publishAsync('r/a', '', { qos: 1, retain: true });
    await waitFor(() => fx.broker.stats().retainedMessages === 1, 'r/a cleared');
    const later = await fx.client();
    const asPublished = await fx.client();
    const shared = await fx.client();
    const noRetained = await fx.client();
    await later.client.subscribeAsync('r/#', { qos: 1 });
    await asPublished.client.subscribeAsync('r/#', { qos: 1, rap: true, rh: 2 });
    await shared.client.subscribeAsync('$share/g/r/#', { qos: 1 });
    await noRetained.client.subscribeAsync('r/#', { qos: 1, rh: 2 });
    await waitFor(() => later.messages.length === 1, 'r/b only');
    expect(later.messages[0]).toMatchObject({ topic: 'r/b', payload: 'B' });

    // A live retained publish: RETAIN cleared for normal subscribers, kept with Retain As Published.
    await pub.client.publishAsync('r/b', 'B2', { qos: 1, retain: true });
    await waitFor(() => later.messages.length === 2 && asPublished.messages.length === 1 && shared.messages.length === 1, 'the live message');
    expect(later.messages[1].packet).toMatchObject({ retain: false });
    expect(asPublished.messages[0]).toMatchObject({ payload: 'B2', packet: { retain: true } });
    expect(shared.messages.map((m) => m.payload)).toEqual(['B2']); // no retained message for a shared subscription
    expect(noRetained.messages.map((m) => m.payload)).toEqual(['B2']); // retain handling 2
    // The clearing publish (empty payload) was forwarded like any other.
    expect(late.messages.slice(2).map((m) => [m.topic, m.payload])).toEqual([['r/a', ''], ['r/b', 'B2']]);
  });

  it('publishes the will when the connection is lost or closed with reason 0x04, not after a normal DISCONNECT (§3.1.2.5)', async () => {
    const watcher = await fx.client();
    await watcher.client.subscribeAsync('wills/#', { qos: 1 });
    const will = (name: string) => ({
      topic: `wills/${name}`,
      payload: Buffer.from(`${name} gone`),
      qos: 1 as const,
      retain: false,
      properties: { userProperties: { why: 'test' }, contentType: 'text/plain' },
    });
    const lost = await fx.client({ will: will('lost') });
    const polite = await fx.client({ will: will('polite') });
    const asked = await fx.client({ will: will('asked') });

    lost.client.stream.destroy();
    await polite.client.endAsync();
    await asked.client.endAsync(false, { reasonCode: 0x04 });
    await waitFor(() => watcher.messages.length >= 2, 'two wills');
    await sleep(100);
    expect(watcher.messages.map((m) => m.topic).sort()).toEqual(['wills/asked', 'wills/lost']);
    expect(watcher.messages.find((m) => m.topic === 'wills/lost')).toMatchObject({
      payload: 'lost gone',
      packet: { qos: 1, properties: { userProperties: { why: 'test' }, contentType: 'text/plain' } },
    });
    expect(fx.broker.stats().willsPublished).toBe(2);
  });

  it('delays the will by its Will Delay Interval and drops it when the client is back in time (§3.1.3.2.2)', async () => {
    const watcher = await fx.client();
    await watcher.client.subscribeAsync('wills/#', { qos: 1 });
    const delayed = (name: string) => ({
      ...persistent(name),
      will: { topic: `wills/${name}`, payload: Buffer.from(name), qos: 1 as const, retain: false, properties: { willDelayInterval: 1 } },
    });
    const away = await fx.client(delayed('away'));
    const back = await fx.client(delayed('back'));
    away.client.stream.destroy();
    back.client.stream.destroy();
    await sleep(300);
    expect(watcher.messages).toEqual([]);
    await fx.client(persistent('back')); // reconnected within the delay
    await waitFor(() => watcher.messages.length === 1, 'the delayed will');
    await sleep(300); // 'back' would have been due by now
    expect(watcher.messages.map((m) => m.topic)).toEqual(['wills/away']);
  });

  it('queues QoS 1 messages for an offline persistent session and delivers them on resume (§3.1.2.4, §4.1)', async () => {
    const first = await fx.client(persistent('persist'));
    expect(first.connack.sessionPresent).toBe(false);
    await first.client.subscribeAsync('p/#', { qos: 1 });
    await first.client.endAsync();
    await waitFor(() => fx.broker.stats().offlineSessions === 1, 'the session offline');

    const pub = await fx.client();
    for (let i = 0; i < 5; i++) await pub.client.publishAsync(`p/${i}`, `m${i}`, { qos: 1 });
    await pub.client.publishAsync('p/qos0', 'not kept', { qos: 0 });
    expect(fx.broker.stats()).toMatchObject({ queuedMessages: 5, offlineSessions: 1 });

    const again = await fx.client(persistent('persist'));
    expect(again.connack.sessionPresent).toBe(true);
    await waitFor(() => again.messages.length === 5, 'the queued messages');
    await sleep(100);
    expect(again.messages.map((m) => m.payload)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    await again.client.endAsync();

    // Clean Start discards the session: no subscription, nothing delivered.
    const fresh = await fx.client({ clientId: 'persist', clean: true });
    expect(fresh.connack.sessionPresent).toBe(false);
    await pub.client.publishAsync('p/x', 'after', { qos: 1 });
    await sleep(100);
    expect(fresh.messages).toEqual([]);
  });

  it('ends an offline session after its expiry interval, and lowers a requested expiry to its maximum', async () => {
    const short = await fx.client(persistent('short', 1));
    await short.client.subscribeAsync('s/#', { qos: 1 });
    await short.client.endAsync();
    expect(fx.broker.stats().sessions).toBe(1);
    await waitFor(() => fx.broker.stats().sessions === 0, 'the session to expire', 3000);
    const back = await fx.client(persistent('short', 1));
    expect(back.connack.sessionPresent).toBe(false);

    const greedy = await fx.client(persistent('greedy', 30 * 86_400));
    expect(greedy.connack.properties?.sessionExpiryInterval).toBe(7 * 86_400);
  });

  it('resends unacknowledged publishes on resume, with DUP and the same packet ids (§4.4)', async () => {
    // A bare client that never sends PUBACK (mqtt.js always does, and stalls its input until then).
    const slow = await fx.raw({ clientId: 'slow', clean: false, properties: { sessionExpiryInterval: 60 } });
    slow.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'u/#', qos: 1 }] });
    await slow.next('suback');
    const pub = await fx.client();
    for (let i = 0; i < 3; i++) await pub.client.publishAsync('u/x', `m${i}`, { qos: 1 });
    const unacked = [await slow.next('publish'), await slow.next('publish'), await slow.next('publish')] as IPublishPacket[];
    expect(fx.broker.stats().inFlightMessages).toBe(3);
    slow.destroy();

    const again = await fx.client(persistent('slow'));
    expect(again.connack.sessionPresent).toBe(true);
    await waitFor(() => again.messages.length === 3, 'the resent messages');
    expect(again.messages.map((m) => [m.payload, m.packet.dup, m.packet.messageId])).toEqual(unacked.map((p) => [p.payload.toString(), true, p.messageId]));
    await waitFor(() => fx.broker.stats().inFlightMessages === 0, 'the PUBACKs');
  });

  it("sends at most the client's Receive Maximum unacknowledged QoS 1 publishes, the rest in order after PUBACKs (§4.9)", async () => {
    const narrow = await fx.raw({ clientId: 'narrow', properties: { receiveMaximum: 2 } });
    narrow.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'w/#', qos: 1 }] });
    await narrow.next('suback');
    const pub = await fx.client();
    for (let i = 0; i < 5; i++) await pub.client.publishAsync('w/x', `m${i}`, { qos: 1 });
    const got = [await narrow.next('publish'), await narrow.next('publish')] as IPublishPacket[];
    await expect(narrow.next('publish', 200)).rejects.toThrow(/no publish within/);
    expect(fx.broker.stats()).toMatchObject({ inFlightMessages: 2, queuedMessages: 3 });
    while (got.length < 5) {
      narrow.send({ cmd: 'puback', messageId: got[got.length - 2].messageId });
      got.push((await narrow.next('publish')) as IPublishPacket);
    }
    expect(got.map((p) => p.payload.toString())).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('spreads a shared subscription round-robin, each message to exactly one member; plain subscribers get all (§4.8.2)', async () => {
    const a = await fx.client();
    const b = await fx.client();
    const plain = await fx.client();
    await a.client.subscribeAsync('$share/workers/jobs/+', { qos: 1 });
    await b.client.subscribeAsync('$share/workers/jobs/+', { qos: 1 });
    await plain.client.subscribeAsync('jobs/+', { qos: 1 });
    const pub = await fx.client();
    for (let i = 0; i < 40; i++) await pub.client.publishAsync(`jobs/${i}`, String(i), { qos: 1 });
    await waitFor(() => a.messages.length + b.messages.length === 40 && plain.messages.length === 40, 'all 40 messages');
    await sleep(100);
    expect(a.messages.length).toBe(20);
    expect(b.messages.length).toBe(20);
    const both = [...a.messages, ...b.messages].map((m) => Number(m.payload)).sort((x, y) => x - y);
    expect(both).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(a.messages[0].topic).toBe(`jobs/${a.messages[0].payload}`);

    // A member that leaves gets nothing more; unsubscribing what was never subscribed says so (0x11).
    const unsubacks: number[][] = [];
    b.client.on('packetreceive', (p: Packet) => p.cmd === 'unsuback' && unsubacks.push(p.granted as number[]));
    await b.client.unsubscribeAsync(['$share/workers/jobs/+', 'never/subscribed']);
    expect(unsubacks).toEqual([[0x00, 0x11]]);
    for (let i = 40; i < 50; i++) await pub.client.publishAsync(`jobs/${i}`, String(i), { qos: 1 });
    await waitFor(() => a.messages.length === 30, 'the rest to the remaining member');
    expect(b.messages.length).toBe(20);
  });

  it('resolves topic aliases set by the client; subscribers see the full topic (§3.3.2.3.4)', async () => {
    const sub = await fx.client();
    await sub.client.subscribeAsync('alias/#', { qos: 1 });
    const pub = await fx.client({ autoAssignTopicAlias: true });
    expect(pub.connack.properties?.topicAliasMaximum).toBe(64);
    const sentTopics: string[] = [];
    pub.client.on('packetsend', (p: Packet) => p.cmd === 'publish' && sentTopics.push(p.topic));
    for (let i = 0; i < 4; i++) await pub.client.publishAsync('alias/a/rather/long/topic/name', `m${i}`, { qos: 1 });
    await pub.client.publishAsync('alias/other', 'o', { qos: 0 });
    expect(sentTopics).toEqual(['alias/a/rather/long/topic/name', '', '', '', 'alias/other']); // the alias really was used
    await waitFor(() => sub.messages.length === 5, 'five messages');
    expect(sub.messages.map((m) => m.topic)).toEqual([...Array(4).fill('alias/a/rather/long/topic/name'), 'alias/other']);
    expect(sub.messages.every((m) => m.packet.properties?.topicAlias === undefined)).toBe(true);
  });

  it('forwards user properties, content type, payload format, response topic, correlation data and the message expiry left (§3.3.2.3)', async () => {
    const sub = await fx.client();
    await sub.client.subscribeAsync('props/#', { qos: 1 });
    const pub = await fx.client();
    const properties = {
      userProperties: { seq: '42', stream: 'fast', 'content-encoding': 'deflate-raw', repeated: ['a', 'b'] },
      contentType: 'application/x-protobuf',
      payloadFormatIndicator: true,
      responseTopic: 'reply/here',
      correlationData: Buffer.from([1, 2, 3]),
      messageExpiryInterval: 60,
    };
    await pub.client.publishAsync('props/x', 'payload', { qos: 1, properties });
    await waitFor(() => sub.messages.length === 1, 'the message');
    const got = sub.messages[0].packet.properties!;
    expect(got).toMatchObject({ ...properties, messageExpiryInterval: expect.any(Number) });
    expect(got.messageExpiryInterval).toBeGreaterThanOrEqual(59);
    expect(got.messageExpiryInterval).toBeLessThanOrEqual(60);
  });

  it('does not deliver a queued message whose expiry interval ran out while the session was offline (§3.3.2.3.3)', async () => {
    const first = await fx.client(persistent('expiring'));
    await first.client.subscribeAsync('e/#', { qos: 1 });
    await first.client.endAsync();
    const pub = await fx.client();
    await pub.client.publishAsync('e/short', 'short', { qos: 1, properties: { messageExpiryInterval: 1 } });
    await pub.client.publishAsync('e/long', 'long', { qos: 1, properties: { messageExpiryInterval: 100 } });
    await sleep(1100);
    const again = await fx.client(persistent('expiring'));
    await waitFor(() => again.messages.length >= 1, 'the unexpired message');
    await sleep(100);
    expect(again.messages.map((m) => m.payload)).toEqual(['long']);
    expect(again.messages[0].packet.properties?.messageExpiryInterval).toBeLessThanOrEqual(99);
  });

  it('does not send a client its own messages on a No Local subscription (§3.8.3.1)', async () => {
    const self = await fx.client();
    await self.client.subscribeAsync('nl/#', { qos: 1, nl: true });
    const other = await fx.client();
    await self.client.publishAsync('nl/x', 'mine', { qos: 1 });
    await other.client.publishAsync('nl/x', 'theirs', { qos: 1 });
    await waitFor(() => self.messages.length === 1, 'the other client’s message');
    await sleep(100);
    expect(self.messages.map((m) => m.payload)).toEqual(['theirs']);
  });
});

describe('embedded broker: connection rules', () => {
  const fx = brokerPerTest();

  it('announces its limits in CONNACK and assigns a client id to an empty one (§3.2.2.3)', async () => {
    const one = await fx.client({ clientId: '' });
    const two = await fx.client({ clientId: '' });
    expect(one.connack.properties).toMatchObject({
      receiveMaximum: 64,
      topicAliasMaximum: 64,
      maximumQoS: 1,
      retainAvailable: true,
      sharedSubscriptionAvailable: true,
      wildcardSubscriptionAvailable: true,
      subscriptionIdentifiersAvailable: false,
    });
    const ids = [one.connack.properties?.assignedClientIdentifier, two.connack.properties?.assignedClientIdentifier];
    expect(ids[0]).toMatch(/^embedded-/);
    expect(ids[1]).toMatch(/^embedded-/);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('refuses MQTT 3.1.1 clients with return code 1 (unacceptable protocol version)', async () => {
    const error = await fx.client({ protocolVersion: 4 }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).toMatch(/Unacceptable protocol version/);
    expect(fx.broker.stats().refusedConnections).toBe(1);
    expect(fx.logged.join('\n')).toMatch(/MQTT protocol version 4 \(only MQTT 5 is supported\)/);
  });

  it('refuses a QoS 2 publish with DISCONNECT 0x9B (QoS not supported), and a QoS 2 will at CONNECT', async () => {
    const c = await fx.client({ clientId: 'qos2' });
    const disconnect = new Promise<Packet>((resolve) => c.client.on('disconnect', resolve));
    c.client.publish('x/y', 'z', { qos: 2 });
    expect(await disconnect).toMatchObject({ reasonCode: 0x9b, properties: { reasonString: 'QoS 2 publish: the maximum QoS is 1' } });
    expect(fx.broker.stats().protocolErrors).toBe(1);

    const refused = await fx.client({ will: { topic: 'w', payload: Buffer.from('x'), qos: 2, retain: false } }).then(
      () => undefined,
      (err: Error & { code?: number }) => err,
    );
    expect(refused?.code).toBe(0x9b);
  });

  it('closes the older connection of a client id with DISCONNECT 0x8E (session taken over)', async () => {
    const older = await fx.client({ clientId: 'twice' });
    const disconnect = new Promise<Packet>((resolve) => older.client.on('disconnect', resolve));
    await fx.client({ clientId: 'twice' });
    expect(await disconnect).toMatchObject({ reasonCode: 0x8e });
    expect(fx.broker.stats().sessions).toBe(1);
  });

  it('drops a client silent for 1.5 x its keep-alive (DISCONNECT 0x8D) and publishes its will (§3.1.2.10)', async () => {
    const watcher = await fx.client();
    await watcher.client.subscribeAsync('wills/#', { qos: 1 });
    const silent = await fx.raw({ clientId: 'silent', keepalive: 1, will: { topic: 'wills/silent', payload: Buffer.from('bye'), qos: 1, retain: false } });
    const started = Date.now();
    const disconnect = await silent.next('disconnect', 3000);
    const elapsed = Date.now() - started;
    expect(disconnect).toMatchObject({ reasonCode: 0x8d });
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    await silent.closed;
    await waitFor(() => watcher.messages.length === 1, 'the will');
    expect(watcher.messages[0]).toMatchObject({ topic: 'wills/silent', payload: 'bye' });
  });

  it('keeps a client that sends PINGREQ within its keep-alive', async () => {
    const pinger = await fx.raw({ keepalive: 1 });
    for (let i = 0; i < 4; i++) {
      await sleep(600);
      pinger.send({ cmd: 'pingreq' });
      await pinger.next('pingresp');
    }
    expect(fx.broker.stats().connections).toBe(1);
  });
});
