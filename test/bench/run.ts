/**
 * `npm run bench`: runs every benchmark module in this folder (each exports `run()` and prints its
 * figures), one after the other so that they do not compete for the CPU.
 * `npm run bench -- decode store` runs only the modules whose file names contain those words.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const modules = readdirSync(here)
  .filter((f) => f.endsWith('.js') && f !== 'run.js')
  .filter((f) => only.length === 0 || only.some((word) => f.includes(word)))
  .sort();

for (const file of modules) {
  console.log(`\n## ${file.replace(/\.js$/, '')}`);
  const bench = (await import(pathToFileURL(join(here, file)).href)) as { run?: () => Promise<void> };
  if (typeof bench.run !== 'function') throw new Error(`${file} exports no run()`);
  await bench.run();
}
