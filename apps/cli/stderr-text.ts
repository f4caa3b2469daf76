/**
 * Text to this process's stderr, written to file descriptor 2 at once instead of through
 * process.stderr: creating that stream costs 4-8 ms of a command's start (for a pipe, node loads its
 * net module), which a short command such as `roadlink decode` feels. The writes block, as node's
 * own stderr does on Linux for files, pipes and terminals. A reader that went away (EPIPE) loses the
 * text, as with a closed stderr stream.
 */
import { writeSync } from 'node:fs';
import type { TextOut } from './cli-options.js';

export const stderrText: TextOut = {
  write(text: string): boolean {
    const bytes = Buffer.from(text);
    try {
      for (let done = 0; done < bytes.length; ) done += writeSync(2, bytes, done, bytes.length - done);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
    }
    return true;
  },
};
