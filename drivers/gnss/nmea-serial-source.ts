/**
 * Reads NMEA from a serial device (/dev/ttyUSB0, /dev/ttyACM0, or any character stream such as a FIFO).
 * A tty is put in raw mode so that the line discipline neither echoes nor rewrites the receiver's
 * output; its line speed is set with `stty` when `baud` is given (README.md: or in the systemd unit).
 * A device that is missing, unplugged or closes is reopened every `reconnectMs`; the agent never stops for it.
 * A FIFO is held open for reading and writing, so it never reaches end of stream and is never reopened:
 * a writer that goes away and comes back loses nothing (see openFifo).
 */
import { execFile as execFileCb } from 'node:child_process';
import { close as closeCb, constants, createReadStream, open as openCb } from 'node:fs';
import { Socket } from 'node:net';
import { isatty, ReadStream as TtyReadStream } from 'node:tty';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Readable } from 'node:stream';
import type { GnssDriver, GnssDriverStats, GnssSink } from './gnss-driver.js';
import { NmeaReader } from './nmea-reader.js';

const openFd = promisify(openCb);
const closeFd = promisify(closeCb);
const execFile = promisify(execFileCb);

export interface NmeaSerialOptions {
  path: string;
  /** Line speed, set with `stty -F <path> <baud> raw -echo` at each open of a tty. */
  baud?: number;
  reconnectMs?: number;
}

export class NmeaSerialSource implements GnssDriver {
  private reader: NmeaReader | null = null;
  private stream: Readable | null = null;
  private retry: NodeJS.Timeout | null = null;
  private closed = false;
  private connected = false;
  private ioErrors = 0;
  private lastIoError = '';
  private sink: GnssSink = () => {};
  private ended: () => void = () => {};

  constructor(private readonly options: NmeaSerialOptions) {}

  async open(sink: GnssSink): Promise<void> {
    this.sink = sink;
    this.reader = new NmeaReader(this.options.path, (fix) => this.sink(fix));
    void this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const stream = this.stream;
    if (!stream) return;
    await new Promise<void>((resolve) => {
      this.ended = resolve;
      stream.destroy();
    });
  }

  stats(): GnssDriverStats {
    const base = this.reader?.stats ?? new NmeaReader(this.options.path, () => {}).stats;
    return { ...base, connected: this.connected, ioErrors: this.ioErrors, lastIoError: this.lastIoError };
  }

  private async connect(): Promise<void> {
    let stream: Readable;
    try {
      stream = await this.openStream();
    } catch (err) {
      return this.failed(err as Error);
    }
    if (this.closed) {
      stream.destroy();
      return;
    }
    this.stream = stream;
    this.connected = true;
    stream.on('data', (chunk: string) => this.reader!.push(chunk));
    stream.on('error', (err) => this.failed(err));
    stream.on('end', () => this.failed(new Error('end of stream')));
    stream.on('close', () => {
      this.stream = null;
      this.ended();
    });
  }

  /**
   * A tty (serial port, USB receiver) is opened non-blocking (an open must not wait for carrier detect)
   * and read through Node's tty stream. Anything else — the kernel GNSS subsystem's /dev/gnss0, a FIFO,
   * a file — is read with blocking reads in a file stream (which does not retry EAGAIN).
   * O_NOCTTY everywhere: the device must never become the agent's controlling terminal (an unplug
   * would then send SIGHUP to the agent).
   */
  private async openStream(): Promise<Readable> {
    const path = this.options.path;
    const blocking = constants.O_RDONLY | constants.O_NOCTTY;
    const info = await stat(path);
    if (info.isFIFO()) return openFifo(path);
    if (info.isCharacterDevice()) {
      const fd = await openFd(path, blocking | constants.O_NONBLOCK);
      if (isatty(fd)) {
        if (this.options.baud !== undefined) await this.setLineSpeed(this.options.baud);
        const tty = new TtyReadStream(fd);
        tty.setRawMode(true);
        tty.setEncoding('latin1');
        return tty;
      }
      await closeFd(fd);
    }
    return createReadStream('', { fd: await openFd(path, blocking), encoding: 'latin1' });
  }

  /** A failure is counted and reading goes on: the line may already be right (set by udev or the unit file). */
  private async setLineSpeed(baud: number): Promise<void> {
    try {
      await execFile('stty', ['-F', this.options.path, String(baud), 'raw', '-echo'], { timeout: 5000 });
    } catch (err) {
      this.ioErrors++;
      this.lastIoError = `${this.options.path}: stty ${baud} failed: ${(err as Error).message}`;
    }
  }

  private failed(err: Error): void {
    if (this.connected) {
      this.connected = false;
      this.reader!.end(); // a line cut by the disconnect is counted, not glued to the next one
    }
    this.stream?.destroy();
    if (this.closed) return;
    this.ioErrors++;
    this.lastIoError = `${this.options.path}: ${err.message}`;
    if (this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      if (!this.closed) void this.connect();
    }, this.options.reconnectMs ?? 2000);
  }
}

/**
 * A FIFO is opened O_RDWR | O_NONBLOCK (Linux, fifo(7): succeeds at once, with or without a writer) and
 * read through libuv's event loop as a pipe. Holding its write end ourselves means:
 * - no end of stream when a writer closes, so no close/reopen cycle: when a FIFO's last reader and
 *   last writer are both closed the kernel frees its buffer, so a writer that came back while the
 *   old fd was being closed had its data discarded, and the reopen then waited for a writer that had
 *   already gone;
 * - neither our open nor a writer's open blocks (a read-only open waits for a writer inside a libuv
 *   threadpool thread, which close() could not cancel);
 * - no blocking read in the threadpool: close() returns at once.
 */
async function openFifo(path: string): Promise<Readable> {
  const fd = await openFd(path, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOCTTY);
  const pipe = new Socket({ fd, readable: true, writable: false });
  pipe.setEncoding('latin1');
  return pipe;
}
