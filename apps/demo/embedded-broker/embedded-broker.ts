/**
 * A small in-memory MQTT 5 broker for the demo (`npm start`) and fast tests: no setup, no files,
 * one TCP listener (127.0.0.1, any port; 0 picks a free one). Real-broker tests use mosquitto
 * (test/helpers/mosquitto.ts). What it supports and what not: README.md next to this file.
 *
 *   const broker = await EmbeddedBroker.start({ port: 0 });
 *   broker.url      // mqtt://127.0.0.1:PORT
 *   broker.stats()  // connections, sessions, messages in/out, ...
 *   await broker.close();
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Connection, type ConnectionSettings } from './connection.js';
import { Router, type RouterCounters } from './router.js';

export interface EmbeddedBrokerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port (see `port` / `url` after start). */
  port?: number;
  /** QoS 1 publishes a client may have unacknowledged (CONNACK Receive Maximum). Default 64. */
  receiveMaximum?: number;
  /** Topic aliases per client connection (CONNACK Topic Alias Maximum). Default 64. */
  topicAliasMaximum?: number;
  /** Longest session expiry granted (a longer request is lowered, and CONNACK says so). Default 7 days, at most 24 days. */
  maxSessionExpiryS?: number;
  /** QoS 1 messages kept per session while it is offline or its window is full; more are dropped (counted). Default 10,000. */
  maxQueuedMessages?: number;
  /** Largest packet accepted from a client. Default 4 MiB. */
  maxPacketBytes?: number;
  /** A connection sending no CONNECT within this long is closed. Default 10,000 ms. */
  connectTimeoutMs?: number;
  /** Refused connections and connections closed for a protocol error. Default: silent. */
  log?: (message: string) => void;
}

export interface EmbeddedBrokerStats extends RouterCounters {
  /** Open client connections (accepted sockets, CONNECT or not). */
  connections: number;
  /** Sessions, of which offline (persistent sessions whose client is away). */
  sessions: number;
  offlineSessions: number;
  subscriptions: number;
  retainedMessages: number;
  /** QoS 1 messages waiting in sessions, and sent but not yet PUBACKed. */
  queuedMessages: number;
  inFlightMessages: number;
}

/** setTimeout's limit (2^31 - 1 ms) in whole seconds: session expiry timers cannot be longer. */
const MAX_SESSION_EXPIRY_S = Math.floor((2 ** 31 - 1) / 1000);
/** How long close() lets clients take the DISCONNECT before their sockets are destroyed. */
const CLOSE_GRACE_MS = 200;

export class EmbeddedBroker {
  private readonly server: Server;
  private readonly router: Router;
  private readonly connections = new Set<Connection>();
  private readonly settings: ConnectionSettings;
  private boundPort = 0;
  private closing: Promise<void> | undefined;

  private constructor(private readonly options: EmbeddedBrokerOptions) {
    this.router = new Router(positive('maxQueuedMessages', options.maxQueuedMessages, 10_000));
    this.settings = {
      receiveMaximum: positive('receiveMaximum', options.receiveMaximum, 64, 0xffff),
      topicAliasMaximum: positive('topicAliasMaximum', options.topicAliasMaximum, 64, 0xffff),
      maxSessionExpiryS: Math.min(options.maxSessionExpiryS ?? 7 * 86_400, MAX_SESSION_EXPIRY_S),
      maxPacketBytes: positive('maxPacketBytes', options.maxPacketBytes, 4 * 1024 * 1024, 268_435_455),
      connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs, 10_000),
      log: options.log ?? (() => undefined),
    };
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Starts listening; resolves once the port is bound. */
  static async start(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
    const broker = new EmbeddedBroker(options);
    await broker.listen();
    return broker;
  }

  get host(): string {
    return this.options.host ?? '127.0.0.1';
  }

  /** The bound port (the chosen one when started with port 0). */
  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `mqtt://${host}:${this.port}`;
  }

  stats(): EmbeddedBrokerStats {
    return { ...this.router.counters, connections: this.connections.size, ...this.router.stats() };
  }

  /** Stops listening (once; later calls get the same promise), sends every client DISCONNECT "server shutting down" (no wills), drops all state. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const open = [...this.connections];
    for (const connection of open) connection.shutdown();
    await new Promise((resolve) => setTimeout(resolve, open.length > 0 ? CLOSE_GRACE_MS : 0));
    for (const connection of open) connection.destroy();
    this.router.dispose();
    await closed;
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        this.boundPort = typeof address === 'object' && address ? address.port : 0;
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    this.router.counters.connectionsTotal++;
    const connection = new Connection(socket, this.router, this.settings, (c) => this.connections.delete(c));
    this.connections.add(connection);
  }
}

function positive(name: string, value: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1 || v > max) throw new RangeError(`EmbeddedBroker option ${name}: ${value} is not an integer in 1..${max}`);
  return v;
}
