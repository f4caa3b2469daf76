/**
 * A real mosquitto broker for tests: Debian's /usr/sbin/mosquitto with a generated config in a temp
 * dir, listening on a free loopback port (plain TCP, or TLS with client certificates), with
 * persistence so that sessions and queued messages survive stop/kill + restart on the same port.
 *
 * When mosquitto is not installed, start() throws: the real-broker tests fail rather than skip
 * (install it with `apt-get install mosquitto`; .ci/run does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { childExit } from './child-exit.js';

export const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';

export interface MosquittoTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Clients must present a certificate signed by the CA. Default true. */
  requireCertificate?: boolean;
  /** The client certificate's CN becomes the user name (for ACL %u). Default true. */
  useIdentityAsUsername?: boolean;
}

export interface MosquittoOptions {
  tls?: MosquittoTls;
  /** ACL file content (mosquitto acl_file syntax). */
  acl?: string;
  /** Default true (anonymous clients allowed; with TLS identities everyone has a user name anyway). */
  allowAnonymous?: boolean;
  /** Extra config lines. */
  extra?: string[];
}

/** Picks a free loopback TCP port (bind to port 0, read it, release it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export class Mosquitto {
  readonly dir: string;
  readonly configFile: string;
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(
    readonly port: number,
    private readonly options: MosquittoOptions,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'roadlink-mosquitto-'));
    this.configFile = join(this.dir, 'mosquitto.conf');
    writeFileSync(this.configFile, this.config());
  }

  /** Starts a broker on a free port; resolves once it accepts connections. */
  static async start(options: MosquittoOptions = {}): Promise<Mosquitto> {
    if (!existsSync(MOSQUITTO_BIN)) {
      throw new Error(
        `mosquitto is not installed (${MOSQUITTO_BIN} missing): the real-broker tests need it. ` +
          'Install it with `apt-get install mosquitto` (.ci/run installs it).',
      );
    }
    const broker = new Mosquitto(await freePort(), options);
    await broker.launch();
    return broker;
  }

  get url(): string {
    return `${this.options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.port}`;
  }

  /** Everything mosquitto printed so far (for failure messages). */
  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  private config(): string {
    const o = this.options;
    const lines = [
      `listener ${this.port} 127.0.0.1`,
      `allow_anonymous ${o.allowAnonymous ?? true}`,
      'persistence true',
      `persistence_location ${this.dir}/`,
      // Save the session state every second, so that a killed broker loses at most one second of it.
      'autosave_interval 1',
      'max_queued_messages 1000000',
      'max_inflight_messages 20',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      'connection_messages true',
      // Running as root, mosquitto would switch to the "mosquitto" user, who cannot read our temp dir.
      `user ${userInfo().username}`,
    ];
    if (o.tls) {
      lines.push(
        `cafile ${o.tls.caFile}`,
        `certfile ${o.tls.certFile}`,
        `keyfile ${o.tls.keyFile}`,
        `require_certificate ${o.tls.requireCertificate ?? true}`,
        `use_identity_as_username ${o.tls.useIdentityAsUsername ?? true}`,
      );
    }
    if (o.acl !== undefined) {
      const aclFile = join(this.dir, 'acl');
      writeFileSync(aclFile, o.acl);
      lines.push(`acl_file ${aclFile}`);
    }
    lines.push(...(o.extra ?? []));
    return `${lines.join('\n')}\n`;
  }

  private async launch(): Promise<void> {
    const child = spawn(MOSQUITTO_BIN, ['-c', this.configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const collect = (chunk: Buffer) => {
      this.output += chunk.toString();
      if (this.output.length > 1_000_000) this.output = this.output.slice(-500_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`mosquitto exited at start (code ${child.exitCode}, signal ${child.signalCode}):\n${this.output}`);
      if (await canConnect(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    throw new Error(`mosquitto did not accept connections on port ${this.port} within 10 s:\n${this.output}`);
  }

  /** Graceful stop (SIGTERM: mosquitto saves its state). */
  async stop(): Promise<void> {
    if (this.running) this.child?.kill('SIGTERM');
    await childExit(this.child);
  }

  /** Crash (SIGKILL: only the last autosave survives). */
  async kill(): Promise<void> {
    if (this.running) this.child?.kill('SIGKILL');
    await childExit(this.child);
  }

  /** Freezes the broker (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void {
    if (this.running) this.child?.kill('SIGSTOP');
  }

  /** Unfreezes it (SIGCONT). */
  resume(): void {
    if (this.running) this.child?.kill('SIGCONT');
  }

  /** Starts the broker again on the same port with the same config and persistence file. */
  async restart(): Promise<void> {
    if (this.running) await this.stop();
    await this.launch();
  }

  /** Stops the broker and removes its temp dir. */
  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * ACL for vehicles identified by their user name (TLS: the certificate CN = VIN): each may publish
 * only its own uplink topics and read only its own cmd/req and rules. `backendUser` may do anything
 * under roadlink/v1/.
 */
export function vehicleAcl(backendUser: string): string {
  return [
    `user ${backendUser}`,
    'topic readwrite roadlink/v1/#',
    '',
    ...['checkin', 'data', 'events', 'status', 'cmd/res', 'rules/ack', 'online'].map((k) => `pattern write roadlink/v1/%u/${k}`),
    'pattern read roadlink/v1/%u/cmd/req',
    'pattern read roadlink/v1/%u/rules',
    '',
  ].join('\n');
}
