// Guards and C-tool helpers for tests that run inside the vcan VM (test/vcan/run.sh).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Fails clearly (never skips) when the interface is missing, e.g. when run outside the VM. */
export function requireVcan(iface: string): void {
  if (existsSync(`/sys/class/net/${iface}`)) return;
  if (process.env.ROADLINK_VCAN_VM !== '1') {
    throw new Error(`${iface} does not exist: the vcan suite runs inside the VM, use npm run test:vcan (test/vcan/run.sh)`);
  }
  throw new Error(`${iface} does not exist in the VM (its interfaces: VCAN_IFACES=${process.env.VCAN_IFACES ?? ''})`);
}

/** A value from /sys/class/net/<iface>/, trimmed. */
export function netSysValue(iface: string, name: string): string {
  return readFileSync(`/sys/class/net/${iface}/${name}`, 'utf8').trim();
}

/** can-utils cansend, e.g. cansend('vcan0', '123#DEADBEEF') or an FD frame '123##1' + hex. */
export async function cansend(iface: string, frame: string): Promise<void> {
  await execFileAsync('cansend', [iface, frame]);
}

/** Sets an interface's MTU (down, mtu, up): 16 carries classic CAN only, 72 CAN FD too. */
export async function setCanMtu(iface: string, mtu: 16 | 72): Promise<void> {
  for (const args of [['down'], ['mtu', String(mtu)], ['up']]) await execFileAsync('ip', ['link', 'set', iface, ...args]);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `ok` every 20 ms; fails naming `what` after `ms`. */
export async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}
