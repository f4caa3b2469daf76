/** The installed package's root folder (the one whose package.json names roadlink): found upwards from this file, in the sources and in dist/. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'roadlink') return dir;
    dir = dirname(dir);
  }
  throw new Error(`roadlink's package.json not found above ${fileURLToPath(import.meta.url)}`);
}
