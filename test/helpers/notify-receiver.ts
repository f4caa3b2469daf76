/**
 * A real sd_notify receiver for tests: a python3 process bound to an AF_UNIX SOCK_DGRAM socket (what
 * systemd's $NOTIFY_SOCKET is; Node cannot bind one), printing each datagram with its arrival time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const RECEIVER = `
import json, os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"bound": True}), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps({"t": time.time() * 1000, "m": data.decode()}), flush=True)
`;

export interface Notification {
  /** Arrival time, ms since the epoch. */
  t: number;
  fields: Record<string, string>;
}

export class NotifyReceiver {
  readonly messages: Notification[] = [];
  private waiters: (() => void)[] = [];

  private constructor(
    readonly socket: string,
    private readonly dir: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(): Promise<NotifyReceiver> {
    const dir = mkdtempSync(join(tmpdir(), 'roadlink-notify-'));
    const socket = join(dir, 'notify.sock');
    const child = spawn('python3', ['-c', RECEIVER, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
    const receiver = new NotifyReceiver(socket, dir, child);
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`notify receiver exited (${code})`)));
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        const parsed = JSON.parse(line) as { bound?: boolean; t: number; m: string };
        if (parsed.bound) return resolve();
        const fields: Record<string, string> = {};
        for (const kv of parsed.m.split('\n')) {
          const at = kv.indexOf('=');
          if (at > 0) fields[kv.slice(0, at)] = kv.slice(at + 1);
        }
        receiver.messages.push({ t: parsed.t, fields });
        for (const w of receiver.waiters.splice(0)) w();
      });
    });
    return receiver;
  }

  /** Resolves with the first message (from index `from`) matching `test`; rejects after `timeoutMs`. */
  async waitFor(test: (m: Notification) => boolean, timeoutMs: number, from = 0): Promise<Notification> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find(test);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching notification within ${timeoutMs} ms; got ${JSON.stringify(this.messages.map((m) => m.fields))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Arrival times of WATCHDOG=1 within [from, to] (ms since the epoch). */
  watchdogTimes(from = 0, to = Infinity): number[] {
    return this.messages.filter((m) => m.fields.WATCHDOG === '1' && m.t >= from && m.t <= to).map((m) => m.t);
  }

  stop(): void {
    this.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
