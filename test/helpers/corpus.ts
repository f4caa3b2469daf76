import { existsSync } from 'node:fs';
import { resolve, join } from 'node:path';

/** The shared test corpus: ../shared/corpus beside the checkout, or CORPUS_DIR. */
export const CORPUS_DIR = resolve(process.env.CORPUS_DIR ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'corpus'));

/** Path of a corpus file; throws a clear error (the test fails, it is not skipped) when it is absent. */
export function corpusFile(relative: string): string {
  const path = join(CORPUS_DIR, relative);
  if (!existsSync(path)) {
    throw new Error(`corpus file missing: ${path} (set CORPUS_DIR to the folder holding the shared CAN corpus)`);
  }
  return path;
}
