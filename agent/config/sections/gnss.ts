/** `gnss:` — an optional NMEA position source: a serial device, or a file replayed for tests and demos. */
import { GNSS_SIGNAL_NAMES } from '../../../drivers/gnss/gnss-signal-names.js';
import type { ValueNode } from '../config-reader.js';

export type GnssConfig = { device: string; baud: number } | { file: string; loop: boolean };

/**
 * The vehicle signals a configured GNSS source provides (rules, monitors and features may use them),
 * named where the driver that feeds them names them (drivers/gnss/gnss-signal-names.ts). Each is added to the signal table only when the
 * CAN catalog lacks it: a vehicle's own CAN position or speed wins. VSS has no GNSS speed leaf, so the
 * ground speed (km/h) is `Vehicle.Speed` itself on a vehicle without a CAN speed — trips, status,
 * collision and rules then run on it unchanged.
 */
export const GNSS_SIGNALS = GNSS_SIGNAL_NAMES;

const BAUD_RATES = [4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800];

export function readGnss(node: ValueNode): GnssConfig | undefined {
  const r = node.object();
  if (!r) return undefined;
  let gnss: GnssConfig | undefined;
  if (r.has('device') === r.has('file')) {
    r.problem('needs exactly one of device (a serial port) or file (an NMEA log)');
  } else if (r.has('device')) {
    const baud = r.number('baud', { default: 9600, integer: true });
    if (!BAUD_RATES.includes(baud)) r.get('baud').problem(`must be one of ${BAUD_RATES.join(', ')}, got ${baud}`);
    // The device may appear later (USB receivers): its existence is checked when the agent opens it.
    gnss = { device: r.path('device', { required: true }) ?? '', baud };
  } else {
    gnss = { file: r.path('file', { required: true, mustExist: 'file' }) ?? '', loop: r.boolean('loop', { default: false }) };
  }
  r.done(['device', 'file', 'baud', 'loop']);
  return gnss;
}
