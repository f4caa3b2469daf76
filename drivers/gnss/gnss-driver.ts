/**
 * The GNSS driver contract and the shape of its source config: a serial device (live receiver) or
 * an NMEA file (replay with the file's own timing); create-gnss-driver.ts picks one.
 */
import type { GnssFix } from './fix-assembler.js';
import type { NmeaStats } from './nmea-reader.js';

export type GnssSink = (fix: GnssFix) => void;

export interface GnssDriverStats extends NmeaStats {
  /** The source is open and delivering (a serial device that was unplugged is not). */
  connected: boolean;
  /** Open/read failures (device missing, unplugged, permission), each followed by a retry. */
  ioErrors: number;
  lastIoError: string;
}

export interface GnssDriver {
  /** Starts delivering fixes. Rejects only for a configuration error (e.g. a replay file that does not exist). */
  open(sink: GnssSink): Promise<void>;
  close(): Promise<void>;
  stats(): GnssDriverStats;
}

/**
 * Where fixes come from. The config section `gnss:` (agent/config/sections/gnss.ts) has this shape;
 * replay options (speed, rebaseToNow) come from the agent (e.g. the bus replay's speed).
 */
export type GnssSourceConfig =
  | {
      /** Serial device, e.g. /dev/ttyUSB0 or /dev/ttyACM0. */
      device: string;
      /** Line speed set with `stty` when the device is a tty; absent = leave the line settings alone. */
      baud?: number;
      /** Wait before reopening the device after an error or end of stream (ms). */
      reconnectMs?: number;
    }
  | {
      /** NMEA file replayed with its own timing. */
      file: string;
      /** Start again at the end (fix times are then rebased to the wall clock). */
      loop?: boolean;
      /** 1 = recorded timing, 10 = ten times faster, 0 = as fast as possible. */
      speed?: number;
      /** Shift fix times so that the first fix carries the replay start time (a recorded drive played as live). */
      rebaseToNow?: boolean;
    };
