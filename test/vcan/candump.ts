// A can-utils candump process (log format, -L) whose output lines a test can wait for.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A line of `candump -L`: "(1700000000.123456) vcan0 123#DEADBEEF" -> its "vcan0 123#DEADBEEF" part. */
export function candumpFrame(line: string): string {
  return line.replace(/^\(\d+\.\d+\) /, '');
}

export class Candump {
  readonly lines: string[] = [];
  private readonly waiters: Array<() => void> = [];
  private exited = false;
  private stderr = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      this.lines.push(line);
      for (const wake of this.waiters.splice(0)) wake();
    });
    child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    child.on('exit', () => {
      this.exited = true;
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /**
   * Starts `candump -L <args>` and returns once it receives frames: sendProbe is called (every
   * 200 ms) until a line with probeFrame (e.g. "vcan0 7FF#") shows that candump's socket is bound.
   */
  static async start(args: string[], probeFrame: string, sendProbe: () => Promise<void>, timeoutMs = 30_000): Promise<Candump> {
    const dump = new Candump(spawn('candump', ['-L', ...args]));
    const deadline = Date.now() + timeoutMs;
    while (!dump.lines.some((l) => candumpFrame(l) === probeFrame)) {
      if (dump.exited) throw new Error(`candump ${args.join(' ')} exited: ${dump.stderr.trim()}`);
      if (Date.now() > deadline) throw new Error(`candump ${args.join(' ')} saw no probe frame ${probeFrame} within ${timeoutMs} ms`);
      await sendProbe();
      await dump.nextLine(200);
    }
    return dump;
  }

  /** Frames (without timestamps) received so far. */
  frames(): string[] {
    return this.lines.map(candumpFrame);
  }

  /** Resolves with the first frame matching the predicate, or fails after timeoutMs. */
  async waitForFrame(predicate: (frame: string) => boolean, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames().find(predicate);
      if (found !== undefined) return found;
      if (this.exited) throw new Error(`candump exited before the frame arrived: ${this.stderr.trim()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`candump: no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames())}`);
      await this.nextLine(left);
    }
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }

  private nextLine(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
