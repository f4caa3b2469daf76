/** Backoff delays, topic names and broker option checks. */
import { describe, expect, it } from 'vitest';
import { Backoff } from '../../wire/backoff.js';
import { brokerClientOptions } from '../../wire/broker-options.js';
import { allVehiclesFilter, checkVin, parseTopic, topicFor } from '../../wire/topics.js';

describe('Backoff', () => {
  it('doubles up to the cap and restarts after reset', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000, 1000]);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('randomises each delay within [1 - jitter, 1] of the exponential value', () => {
    const low = new Backoff({ initialMs: 1000, jitter: 0.5, random: () => 0 });
    const high = new Backoff({ initialMs: 1000, jitter: 0.5, random: () => 0.999999 });
    expect([low.next(), low.next()]).toEqual([500, 1000]);
    expect([high.next(), high.next()]).toEqual([1000, 2000]);
  });
});

describe('topics', () => {
  it('builds and parses roadlink/v1/{vin}/{kind}', () => {
    expect(topicFor('VIN1', 'cmd/req')).toBe('roadlink/v1/VIN1/cmd/req');
    expect(parseTopic('roadlink/v1/VIN1/rules/ack')).toEqual({ vin: 'VIN1', kind: 'rules/ack' });
    expect(parseTopic('roadlink/v1/VIN1/unknown')).toBeUndefined();
    expect(parseTopic('roadlink/v2/VIN1/data')).toBeUndefined();
    expect(parseTopic('roadlink/v1//data')).toBeUndefined();
    expect(allVehiclesFilter('data', 'g')).toBe('$share/g/roadlink/v1/+/data');
    expect(allVehiclesFilter('checkin')).toBe('roadlink/v1/+/checkin');
  });

  it('refuses VINs that would break topics', () => {
    for (const bad of ['', 'A/B', 'A+', 'A#', 'with space']) expect(() => checkVin(bad)).toThrow(/VIN/);
    expect(checkVin('WVWZZZ1JZXW000001')).toBe('WVWZZZ1JZXW000001');
  });
});

describe('broker options', () => {
  it('names the problem', () => {
    expect(() => brokerClientOptions({ url: 'not a url' })).toThrow(/is not a URL/);
    expect(() => brokerClientOptions({ url: 'mqtt://h:1', tls: { caFile: '/x' } })).toThrow(/plain TCP but TLS files/);
    expect(() => brokerClientOptions({ url: 'mqtts://h:1', tls: { certFile: '/x' } })).toThrow(/both certFile and keyFile/);
    expect(() => brokerClientOptions({ url: 'mqtts://h:1', tls: { caFile: '/nonexistent/ca.pem' } })).toThrow(/tls.caFile \/nonexistent\/ca.pem: ENOENT/);
    expect(brokerClientOptions({ url: 'mqtts://broker.example:8884' })).toMatchObject({ protocol: 'mqtts', host: 'broker.example', port: 8884, protocolVersion: 5, reconnectPeriod: 0 });
  });
});
