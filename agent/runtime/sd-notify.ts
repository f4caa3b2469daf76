/**
 * systemd's notification protocol (sd_notify(3)) for a `Type=notify` service: READY=1, STATUS=,
 * STOPPING=1 and WATCHDOG=1 as datagrams to the AF_UNIX socket in $NOTIFY_SOCKET. Node cannot send
 * unix datagrams, so the sending is the project's own small addon (agent/runtime/native/sd_notify.c,
 * built by `npm run build:native`, and for ARM by cross-build/build.sh); this module reads the
 * environment, loads the addon and types it.
 *
 * Without $NOTIFY_SOCKET (not started by systemd, or a unit that is not Type=notify) there is no
 * notifier and nothing is sent. The watchdog interval comes from $WATCHDOG_USEC, and applies to this
 * process only when $WATCHDOG_PID is unset or names it. A failed send is counted and logged (the
 * first few and then every 100th), never thrown at the caller: the agent does not stop recording
 * because systemd cannot hear it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../../wire/package-root.js';

/** Where node-gyp leaves the addon, relative to the package root. */
export const NOTIFY_ADDON_PATH = 'agent/runtime/native/build/Release/roadlink_notify.node';

export interface NotifyAddon {
  /** Sends `message` as one datagram to `socket` ("/path" or "@abstract"); returns the bytes sent. Throws errors with `code`. */
  send(socket: string, message: string): number;
}

let addon: NotifyAddon | undefined;

/** Loads the addon on first use; throws a clear error when it is not built or does not load. */
export function loadNotifyAddon(): NotifyAddon {
  if (addon) return addon;
  const path = join(packageRoot(), NOTIFY_ADDON_PATH);
  if (!existsSync(path)) throw new Error(`sd_notify addon not built: ${NOTIFY_ADDON_PATH} is missing (npm run build:native)`);
  try {
    addon = createRequire(import.meta.url)(path) as NotifyAddon;
  } catch (error) {
    throw new Error(`sd_notify addon ${path} does not load: ${(error as Error).message}`);
  }
  return addon;
}

export type NotifyLog = (level: 'info' | 'warn' | 'error', message: string) => void;

/** The systemd variables this module reads. */
export interface NotifyEnvironment {
  NOTIFY_SOCKET?: string;
  WATCHDOG_USEC?: string;
  WATCHDOG_PID?: string;
}

export class SystemdNotifier {
  /** Datagrams sent, and sends that failed. */
  sent = 0;
  failed = 0;

  private constructor(
    readonly socket: string,
    /** The watchdog timeout for this process, ms (undefined: no watchdog). */
    readonly watchdogMs: number | undefined,
    private readonly addon: NotifyAddon,
    private readonly log: NotifyLog,
  ) {}

  /**
   * The notifier systemd asks for through `env`, or undefined when there is no $NOTIFY_SOCKET.
   * Throws when the socket is set but the addon cannot be loaded (the service would never be READY).
   */
  static fromEnvironment(env: NotifyEnvironment, log: NotifyLog, pid = process.pid): SystemdNotifier | undefined {
    const socket = env.NOTIFY_SOCKET;
    if (!socket) return undefined;
    const loaded = loadNotifyAddon();
    return new SystemdNotifier(socket, watchdogTimeoutMs(env, pid, log), loaded, log);
  }

  /** Sends `fields` as one message (`KEY=value` lines); false when it could not be sent. */
  notify(fields: Record<string, string | number>): boolean {
    const message = Object.entries(fields)
      .map(([key, value]) => `${key}=${String(value).replace(/\n/g, ' ')}`)
      .join('\n');
    try {
      this.addon.send(this.socket, message);
      this.sent++;
      return true;
    } catch (error) {
      const n = ++this.failed;
      if (n <= 3 || n % 100 === 0) this.log('warn', `sd_notify to ${this.socket} failed (${n} so far): ${(error as Error).message}`);
      return false;
    }
  }
}

/** $WATCHDOG_USEC in ms when it applies to process `pid`; undefined otherwise (a bad value is logged). */
export function watchdogTimeoutMs(env: NotifyEnvironment, pid: number, log: NotifyLog): number | undefined {
  const usec = env.WATCHDOG_USEC;
  if (usec === undefined || usec === '') return undefined;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && env.WATCHDOG_PID !== String(pid)) return undefined;
  if (!/^\d+$/.test(usec) || Number(usec) === 0) {
    log('warn', `WATCHDOG_USEC=${JSON.stringify(usec)} is not a positive number of microseconds: no watchdog`);
    return undefined;
  }
  return Number(usec) / 1000;
}
