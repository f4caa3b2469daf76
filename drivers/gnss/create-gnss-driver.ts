/** Picks the GNSS source the config names: a serial device or an NMEA file replay. */
import type { GnssDriver, GnssSourceConfig } from './gnss-driver.js';
import { NmeaFileReplay } from './nmea-file-replay.js';
import { NmeaSerialSource } from './nmea-serial-source.js';

export function createGnssDriver(config: GnssSourceConfig): GnssDriver {
  if ('file' in config) {
    return new NmeaFileReplay({ path: config.file, speed: config.speed, rebaseToNow: config.rebaseToNow, loop: config.loop });
  }
  return new NmeaSerialSource({ path: config.device, baud: config.baud, reconnectMs: config.reconnectMs });
}
