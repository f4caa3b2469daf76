/**
 * The connection under an MQTT client: TCP for mqtt://, TLS for mqtts:// (the only protocols
 * broker-options.ts accepts), handed to mqtt.js's MqttClient as its stream builder.
 *
 * mqtt.connect() would do the same through its protocol table, which loads every transport mqtt.js
 * has (WebSocket with node:http, SOCKS proxies with their address parsers, mini-program sockets) at
 * import: about 40 files and 4 MB of resident memory the agent never uses, read before the first CAN
 * frame. TLS follows mqtt.js's own tls builder: the URL host is the server name unless it is an IP
 * address or one is configured, and a handshake or authorization error reaches the client's 'error'
 * listeners and ends the connection.
 */
import { createRequire } from 'node:module';
import { isIP, createConnection } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { IClientOptions, MqttClient } from 'mqtt';

type MqttClientClass = typeof import('mqtt').MqttClient;
type StreamBuilder = ConstructorParameters<MqttClientClass>[0];

// require(), not import: the CommonJS module's `default` export is the class under node and vitest alike.
const { default: MqttClientCtor } = createRequire(import.meta.url)('mqtt/lib/client') as { default: MqttClientClass };

function brokerStream(options: IClientOptions): StreamBuilder {
  const host = options.host ?? 'localhost';
  if (options.protocol !== 'mqtts') return () => createConnection({ host, port: options.port ?? 1883 });
  return (client) => {
    const rejectUnauthorized = options.rejectUnauthorized !== false;
    const socket = tlsConnect({
      host,
      port: options.port ?? 8883,
      servername: options.servername ?? (isIP(host) === 0 ? host : undefined),
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      rejectUnauthorized,
    });
    const onError = (err: Error) => {
      if (rejectUnauthorized) client.emit('error', err);
      socket.end();
    };
    socket.on('error', onError);
    socket.on('secureConnect', () => {
      if (rejectUnauthorized && !socket.authorized) socket.emit('error', new Error('TLS not authorized'));
      else socket.removeListener('error', onError);
    });
    return socket;
  };
}

/** An MqttClient (not connecting until connect(), as brokerClientOptions sets manualConnect) for `options`. */
export function mqttClient(options: IClientOptions): MqttClient {
  return new MqttClientCtor(brokerStream(options), options);
}
