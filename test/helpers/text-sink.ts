import { Writable } from 'node:stream';

/** A stream that keeps what is written to it as text (a CLI's stdout/stderr in tests). */
export function textSink(): Writable & { text: string } {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      sink.text += String(chunk);
      done();
    },
  }) as Writable & { text: string };
  sink.text = '';
  return sink;
}
