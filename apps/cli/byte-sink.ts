/**
 * Where a command's output bytes go. When the stream is this process's stdout on a file or a device,
 * the bytes are written to its file descriptor at once (fs.writeSync), so the caller may reuse its
 * buffer; any other stream gets a copy through write(), with backpressure (`drained`). A reader
 * that goes away (EPIPE, `| head`) closes the sink: later bytes are dropped.
 *
 * Also stderrText: a command's messages written to file descriptor 2 at once, without
 * process.stderr. Creating that stream costs 4-8 ms of a command's start (for a pipe, node loads
 * its net module), which a short command such as `roadlink decode` feels. The writes block, as
 * node's own stderr does on Linux for files, pipes and terminals.
 */
import { fstatSync, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { TextOut } from './cli-options.js';

/** Writes all of `bytes` to `fd`, blocking; false when the reader went away (EPIPE). */
function writeAllSync(fd: number, bytes: Uint8Array): boolean {
  try {
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
    return false;
  }
}

/** Text to this process's stderr (fd 2); lost when the reader went away, as with a closed stream. */
export const stderrText: TextOut = {
  write(text: string): boolean {
    writeAllSync(2, Buffer.from(text));
    return true;
  },
};

export class ByteSink {
  /** The reader went away. */
  closed = false;
  private readonly fd: number | undefined;
  private mustDrain = false;

  constructor(private readonly stream: Writable) {
    this.fd = syncFd(stream);
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') this.closed = true;
      else throw e;
    });
  }

  /** Writes `bytes`; the caller may overwrite them as soon as this returns. */
  write(bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.fd !== undefined) {
      if (!writeAllSync(this.fd, bytes)) this.closed = true;
      return;
    }
    try {
      if (!this.stream.write(Buffer.from(bytes))) this.mustDrain = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
      this.closed = true;
    }
  }

  /** Resolves when the stream has taken what it was given (at once for a file descriptor). */
  async drained(): Promise<void> {
    if (!this.mustDrain || this.closed) return;
    this.mustDrain = false;
    const stream = this.stream;
    await new Promise<void>((resolve) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('close', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
    });
  }
}

/** The file descriptor of process.stdout/stderr when it is a regular file or a device other than a terminal (blocking writes), else undefined. */
function syncFd(stream: Writable): number | undefined {
  const fd = stream === process.stdout ? 1 : stream === process.stderr ? 2 : undefined;
  if (fd === undefined) return undefined;
  try {
    const stat = fstatSync(fd);
    // isTTY, not tty.isatty(): node:tty loads node's net module, several ms of a short command's start.
    return stat.isFile() || (stat.isCharacterDevice() && !(stream as { isTTY?: boolean }).isTTY) ? fd : undefined;
  } catch {
    return undefined;
  }
}
