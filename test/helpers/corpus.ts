import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The checkout's root: the nearest folder above this file that holds package.json (works from dist/ too). */
export function repoRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${import.meta.dirname}`);
    dir = parent;
  }
  return dir;
}

/** The shared test corpus: ../shared/corpus beside the checkout, or CORPUS_DIR. */
export const CORPUS_DIR = resolve(process.env.CORPUS_DIR ?? join(repoRoot(), '..', 'shared', 'corpus'));

/** Path of a corpus file; throws a clear error (the test fails, it is not skipped) when it is absent. */
export function corpusFile(relative: string): string {
  const path = join(CORPUS_DIR, relative);
  if (!existsSync(path)) {
    throw new Error(`corpus file missing: ${path} (set CORPUS_DIR to the folder holding the shared CAN corpus)`);
  }
  return path;
}
