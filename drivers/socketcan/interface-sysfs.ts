/** What /sys and /proc tell about a network interface: whether it is up, its MTU, why it cannot be opened. */
import { existsSync, readFileSync } from 'node:fs';

/** struct canfd_frame: an MTU this large carries CAN FD frames. */
export const CANFD_MTU = 72;
const IFF_UP = 0x1;
const ARPHRD_CAN = 280;

/** A value of /sys/class/net/<iface>/, trimmed; undefined when unreadable. */
export function readNetSys(iface: string, name: string): string | undefined {
  try {
    return readFileSync(`/sys/class/net/${iface}/${name}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function interfaceIsUp(iface: string): boolean {
  return (Number(readNetSys(iface, 'flags') ?? 0) & IFF_UP) !== 0;
}

/**
 * Why an interface cannot be opened, as far as /sys and /proc tell, or undefined when they see
 * nothing wrong (the backend's own error then stands).
 */
export function diagnoseInterface(iface: string): string | undefined {
  const sys = `/sys/class/net/${iface}`;
  if (!/^[\w.:-]{1,15}$/.test(iface)) return 'not a valid interface name';
  if (!existsSync(sys)) return `no such network interface (${sys} does not exist)`;
  const type = Number(readNetSys(iface, 'type'));
  if (type !== ARPHRD_CAN) return `not a CAN interface (link type ${type}, CAN is ${ARPHRD_CAN})`;
  if (!existsSync('/proc/net/can')) return 'the kernel has no CAN protocol support loaded (modprobe can_raw)';
  return undefined;
}
