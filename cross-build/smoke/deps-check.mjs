// Runs on the bundled node (under qemu) from inside the bundle's app/ dir: imports every production
// dependency the way the agent does, so a package the trimming broke, or an addon that does not
// load on the target, fails here. Prints one line per dependency.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
let failed = 0;
for (const name of Object.keys(pkg.dependencies ?? {})) {
  try {
    const mod = await import(name);
    console.log(`  ${name}: ${Object.keys(mod).length} exports`);
  } catch (err) {
    failed++;
    console.log(`  ${name}: FAILED ${err.message}`);
  }
}
if (failed > 0) {
  console.error(`deps-check: ${failed} dependencies failed to load`);
  process.exit(1);
}
