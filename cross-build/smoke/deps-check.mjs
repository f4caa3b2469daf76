// Runs on the bundled node (under qemu) from inside the bundle's app/ dir: imports every production
// dependency the way the agent does, so a package the trimming broke, or an addon that does not
// load on the target, fails here. The backend server's packages, which the build leaves out on
// purpose (app/LEFT-OUT-PACKAGES), must be absent instead. Prints one line per dependency.
import { existsSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const leftOutFile = new URL('../LEFT-OUT-PACKAGES', import.meta.url);
const leftOut = new Set(existsSync(leftOutFile) ? readFileSync(leftOutFile, 'utf8').split('\n').filter(Boolean) : []);
let failed = 0;
for (const name of Object.keys(pkg.dependencies ?? {})) {
  let loaded;
  try {
    loaded = Object.keys(await import(name)).length;
  } catch (err) {
    if (!leftOut.has(name)) {
      failed++;
      console.log(`  ${name}: FAILED ${err.message}`);
    } else console.log(`  ${name}: left out (backend server only)`);
    continue;
  }
  if (leftOut.has(name)) {
    failed++;
    console.log(`  ${name}: FAILED present, although the build leaves it out`);
  } else console.log(`  ${name}: ${loaded} exports`);
}
if (failed > 0) {
  console.error(`deps-check: ${failed} dependencies failed`);
  process.exit(1);
}
