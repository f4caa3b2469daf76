/**
 * A bare MQTT 5 client for the embedded broker tests: writes exactly the packets (or bytes) a test
 * gives it, and collects what the broker answers, parsed with mqtt-packet. For what mqtt.js would
 * never send: garbage, protocol violations, unknown topic aliases, silence past the keep-alive.
 */
import { connect, type Socket } from 'node:net';
import { generate, parser, type IConnackPacket, type IConnectPacket, type Packet } from 'mqtt-packet';

export class RawClient {
  /** Every packet received, in order. */
  readonly received: Packet[] = [];
  /** Resolves when the broker closed the connection. */
  readonly closed: Promise<void>;
  private readonly parser = parser({ protocolVersion: 5 });
  private readonly waiters: (() => void)[] = [];
  private isClosed = false;

  private constructor(private readonly socket: Socket) {
    this.parser.on('packet', (packet) => {
      this.received.push(packet);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('data', (chunk) => this.parser.parse(chunk));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        for (const w of this.waiters.splice(0)) w();
        resolve();
      }),
    );
  }

  static async open(port: number): Promise<RawClient> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  /** Opens a connection and completes CONNECT / CONNACK (MQTT 5, clean start, no keep-alive unless given). */
  static async connected(port: number, connect: Partial<IConnectPacket> = {}): Promise<RawClient> {
    const client = await RawClient.open(port);
    client.send({ cmd: 'connect', protocolVersion: 5, protocolId: 'MQTT', clean: true, keepalive: 0, clientId: `raw-${Math.random().toString(36).slice(2, 10)}`, ...connect });
    const connack = (await client.next('connack')) as IConnackPacket;
    if (connack.reasonCode !== 0) throw new Error(`CONNECT refused with reason ${connack.reasonCode}`);
    return client;
  }

  send(packet: Packet): void {
    this.socket.write(generate(packet, { protocolVersion: 5 }));
  }

  sendBytes(bytes: Buffer | Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The first received packet of `cmd` not taken by an earlier next(); rejects when the connection closes first. */
  async next(cmd: Packet['cmd'], timeoutMs = 3000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.received.findIndex((p) => p.cmd === cmd);
      if (at >= 0) return this.received.splice(at, 1)[0];
      if (this.isClosed) throw new Error(`connection closed without a ${cmd}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${cmd} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}
