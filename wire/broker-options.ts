/**
 * How to reach the broker (URL, TLS files, credentials), shared by the vehicle uplink and the
 * backend receiver, turned into mqtt.js client options (MQTT 5, no automatic reconnect: the
 * caller's MqttSession reconnects with backoff).
 */
import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';

export interface BrokerTls {
  /** PEM file of the CA(s) the broker certificate must chain to. */
  caFile?: string;
  /** PEM client certificate (mutual TLS). */
  certFile?: string;
  /** PEM private key of the client certificate. */
  keyFile?: string;
  /** Server name to verify the broker certificate against, when it differs from the URL host. */
  servername?: string;
  /** Default true. false accepts any broker certificate (testing only). */
  rejectUnauthorized?: boolean;
}

export interface BrokerOptions {
  /** mqtt://host:port (TCP) or mqtts://host:port (TLS). */
  url: string;
  tls?: BrokerTls;
  username?: string;
  password?: string;
  /** Keep-alive interval. Default 30 s. */
  keepaliveS?: number;
  /** Give up a connection attempt without CONNACK after this long. Default 15,000 ms. */
  connectTimeoutMs?: number;
}

/** Thrown for options that cannot work (unreadable TLS file, bad URL), naming the option. */
export class BrokerOptionsError extends Error {
  override name = 'BrokerOptionsError';
}

function readPem(option: string, path: string | undefined): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new BrokerOptionsError(`${option} ${path}: ${(err as Error).message}`);
  }
}

export function brokerClientOptions(broker: BrokerOptions): IClientOptions {
  let url: URL;
  try {
    url = new URL(broker.url);
  } catch {
    throw new BrokerOptionsError(`broker URL ${JSON.stringify(broker.url)} is not a URL (expected mqtt://host:port or mqtts://host:port)`);
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') {
    throw new BrokerOptionsError(`broker URL ${broker.url}: protocol must be mqtt: or mqtts:, not ${url.protocol}`);
  }
  const tls = broker.tls ?? {};
  const secure = url.protocol === 'mqtts:';
  if (!secure && (tls.caFile || tls.certFile || tls.keyFile)) {
    throw new BrokerOptionsError(`broker URL ${broker.url} is plain TCP but TLS files are configured: use mqtts://`);
  }
  if (Boolean(tls.certFile) !== Boolean(tls.keyFile)) {
    throw new BrokerOptionsError('a client certificate needs both certFile and keyFile');
  }
  return {
    protocol: secure ? 'mqtts' : 'mqtt',
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 8883 : 1883,
    protocolVersion: 5,
    reconnectPeriod: 0,
    manualConnect: true,
    keepalive: broker.keepaliveS ?? 30,
    connectTimeout: broker.connectTimeoutMs ?? 15_000,
    username: broker.username,
    password: broker.password,
    ...(secure
      ? {
          ca: readPem('tls.caFile', tls.caFile),
          cert: readPem('tls.certFile', tls.certFile),
          key: readPem('tls.keyFile', tls.keyFile),
          servername: tls.servername,
          rejectUnauthorized: tls.rejectUnauthorized ?? true,
        }
      : {}),
  };
}

/** The broker options of the `roadlink` commands, for node:util parseArgs (shared wording and names). */
export const BROKER_ARGS = {
  broker: { type: 'string' },
  ca: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
} as const;

/** Usage lines for BROKER_ARGS. */
export const BROKER_ARGS_USAGE = `  --broker URL        mqtt://host:port or mqtts://host:port (required)
  --ca FILE           CA certificate(s) to verify the broker (PEM)
  --tls-cert FILE     client certificate (PEM), with --tls-key
  --tls-key FILE      client private key (PEM)
  --username NAME     MQTT user name
  --password SECRET   MQTT password (or ROADLINK_MQTT_PASSWORD)
`;

/** BrokerOptions from parsed BROKER_ARGS values; undefined when --broker is missing. */
export function brokerOptionsFromArgs(values: { [K in keyof typeof BROKER_ARGS]?: string }): BrokerOptions | undefined {
  if (!values.broker) return undefined;
  const tls = values.ca || values['tls-cert'] || values['tls-key'] ? { caFile: values.ca, certFile: values['tls-cert'], keyFile: values['tls-key'] } : undefined;
  return { url: values.broker, tls, username: values.username, password: values.password ?? process.env.ROADLINK_MQTT_PASSWORD };
}
