/** `uplink:` — the MQTT 5 connection to the backend. */
import type { ValueNode } from '../config-reader.js';

export interface UplinkTlsConfig {
  /** CA bundle that signs the broker's certificate (absolute path); the system CAs when absent. */
  ca?: string;
  /** Client certificate and key for mutual TLS (absolute paths, both or neither). */
  cert?: string;
  key?: string;
}

export interface UplinkConfig {
  /** mqtt://, mqtts://, ws:// or wss:// URL. */
  broker: string;
  clientId: string;
  /** Topics are `<topicPrefix>/data`, `<topicPrefix>/events`, ... */
  topicPrefix: string;
  tls?: UplinkTlsConfig;
  keepaliveMs: number;
  /** Largest MQTT payload the agent publishes (after compression). */
  maxPayloadBytes: number;
  /** Compress payloads with raw deflate. */
  deflate: boolean;
  /** Messages published and not yet acknowledged at any time. */
  inFlight: number;
  /**
   * Sample rows wait until the oldest has waited this long, then go merged into few data messages
   * (0: at once). Events never wait. Longer: fewer bytes and radio wake-ups, later telemetry.
   */
  batchWindowMs: number;
}

const PROTOCOLS = ['mqtt:', 'mqtts:', 'ws:', 'wss:'];

export function readUplink(node: ValueNode, vin: string): UplinkConfig | undefined {
  const r = node.object();
  if (!r) return undefined;
  const brokerNode = r.get('broker');
  let broker = brokerNode.string({ required: true });
  if (broker !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(broker);
    } catch {
      broker = brokerNode.problem(`must be a URL like mqtts://broker.example.com:8883, got ${JSON.stringify(broker)}`);
    }
    if (url && (!PROTOCOLS.includes(url.protocol) || !url.hostname)) {
      broker = brokerNode.problem(`must be an ${PROTOCOLS.map((p) => p + '//').join(', ')} URL with a host, got ${JSON.stringify(broker)}`);
    }
  }
  const uplink: UplinkConfig = {
    broker: broker ?? '',
    clientId: r.string('client_id', { default: `roadlink-${vin}`, pattern: /^[\x21-\x7e]{1,128}$/, hint: 'printable text without spaces' }),
    topicPrefix: r.string('topic_prefix', { default: `roadlink/v1/${vin}`, pattern: /^[^#+\s]+[^/#+\s]$/, hint: 'a topic without wildcards, spaces or a trailing /' }),
    tls: readTls(r.get('tls')),
    keepaliveMs: r.duration('keepalive', { default: 30_000, minMs: 1000 }),
    maxPayloadBytes: r.byteSize('max_payload', { default: 128 * 1024, min: 1024, max: 268_435_455 }),
    deflate: r.boolean('deflate', { default: true }),
    inFlight: r.number('in_flight', { default: 16, integer: true, min: 1, max: 65_535 }),
    batchWindowMs: r.duration('batch_window', { default: 30_000 }),
  };
  r.done();
  return uplink;
}

function readTls(node: ValueNode): UplinkTlsConfig | undefined {
  const r = node.object();
  if (!r) return undefined;
  const tls: UplinkTlsConfig = {
    ca: r.path('ca', { mustExist: 'file' }),
    cert: r.path('cert', { mustExist: 'file' }),
    key: r.path('key', { mustExist: 'file' }),
  };
  if (r.has('cert') !== r.has('key')) r.problem('cert and key go together (mutual TLS needs both)');
  r.done();
  return tls;
}
