/**
 * A real PostgreSQL for tests: Debian's server binaries (/usr/lib/postgresql/<version>/bin, the
 * newest version installed), a fresh cluster in a temp dir, listening on a free loopback port (no
 * Unix socket), trust authentication for the `postgres` user. PostgreSQL refuses to run as root, so
 * when the tests run as root, initdb and postgres run as the `postgres` system user (setpriv) in a
 * temp dir owned by it. stop()/start() keep the data (a database outage); dispose() removes it.
 *
 * When PostgreSQL is not installed, start() throws: the tests fail rather than skip
 * (install it with `apt-get install postgresql`; .ci/run does).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './mosquitto.js';
import { childExit } from './child-exit.js';

const POSTGRES_ROOT = process.env.POSTGRES_ROOT ?? '/usr/lib/postgresql';

/** The bin folder of the newest installed server version, or undefined. */
export function postgresBinDir(): string | undefined {
  if (!existsSync(POSTGRES_ROOT)) return undefined;
  const versions = readdirSync(POSTGRES_ROOT)
    .filter((v) => existsSync(join(POSTGRES_ROOT, v, 'bin', 'postgres')) && existsSync(join(POSTGRES_ROOT, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(POSTGRES_ROOT, versions[0], 'bin') : undefined;
}

/** uid/gid of the `postgres` system user (to run the server when we are root). */
function postgresUser(): { uid: number; gid: number } {
  const line = execFileSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' }).trim();
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export class Postgres {
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(
    private readonly bin: string,
    readonly dir: string,
    readonly port: number,
    private readonly asRoot: boolean,
  ) {}

  static async start(): Promise<Postgres> {
    const bin = postgresBinDir();
    if (!bin) {
      throw new Error(
        `PostgreSQL is not installed (no ${POSTGRES_ROOT}/<version>/bin/{initdb,postgres}): the database tests need it. ` +
          'Install it with `apt-get install postgresql` (.ci/run installs it).',
      );
    }
    const asRoot = userInfo().uid === 0;
    const dir = mkdtempSync(join(tmpdir(), 'roadlink-postgres-'));
    if (asRoot) {
      const { uid, gid } = postgresUser();
      chownSync(dir, uid, gid);
    }
    const server = new Postgres(bin, dir, await freePort(), asRoot);
    server.command(join(bin, 'initdb'), ['-D', server.dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync']);
    await server.launch();
    return server;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** A program as the server's user: ourselves, or `postgres` when we are root. */
  private argv(program: string, args: string[]): [string, string[]] {
    // setpriv execs the program itself (no intermediate process), so our signals reach postgres.
    return this.asRoot ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', program, ...args]] : [program, args];
  }

  private command(program: string, args: string[]): void {
    const [file, argv] = this.argv(program, args);
    execFileSync(file, argv, { stdio: 'pipe' });
  }

  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Creates a fresh database (one per test suite or test) and returns its URL. */
  async createDatabase(name: string): Promise<string> {
    const client = new pg.Client({ connectionString: this.url() });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  private async launch(): Promise<void> {
    // fsync stays on: the outage tests and the bench measure a real commit.
    const [file, argv] = this.argv(join(this.bin, 'postgres'), [
      '-D', this.dataDir, '-p', String(this.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=',
      '-c', 'max_connections=100', '-c', 'shared_buffers=128MB',
    ]);
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const collect = (chunk: Buffer) => {
      this.output += chunk.toString();
      if (this.output.length > 1_000_000) this.output = this.output.slice(-500_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`postgres exited at start (code ${child.exitCode}, signal ${child.signalCode}):\n${this.output}`);
      if (await this.accepts()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.kill();
    throw new Error(`postgres did not accept connections on port ${this.port} within 20 s:\n${this.output}`);
  }

  private async accepts(): Promise<boolean> {
    const client = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Fast shutdown (SIGINT: clients disconnected, transactions rolled back, data kept). A database outage. */
  async stop(): Promise<void> {
    if (this.running) this.child?.kill('SIGINT');
    await childExit(this.child);
  }

  /** Starts the server again on the same port and data. */
  async restart(): Promise<void> {
    if (this.running) await this.stop();
    await this.launch();
  }

  private async kill(): Promise<void> {
    if (this.running) this.child?.kill('SIGKILL');
    await childExit(this.child);
  }

  /** Stops the server and removes its data. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
