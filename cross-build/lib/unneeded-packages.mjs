// Lists the installed packages of an `npm ci --omit=dev` tree that the running agent never loads:
// those reachable from the project's dependencies only through build-time tools (node-gyp, which
// socketcan declares as a runtime dependency; prebuild-install; the nan headers). Reads the tree
// from node_modules/.package-lock.json and resolves each dependency the way Node does (nearest
// node_modules upwards). Prints one package path per line, relative to the app dir.
//
// usage: node unneeded-packages.mjs <app-dir> [build-only-name...]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [appDir, ...buildOnlyArgs] = process.argv.slice(2);
if (!appDir) {
  console.error('usage: node unneeded-packages.mjs <app-dir> [build-only-name...]');
  process.exit(2);
}
const buildOnly = new Set(buildOnlyArgs.length > 0 ? buildOnlyArgs : ['node-gyp', 'prebuild-install', 'nan']);
const root = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8'));
const installed = JSON.parse(readFileSync(join(appDir, 'node_modules', '.package-lock.json'), 'utf8')).packages;

/** Where Node finds `name` when required from the package at `fromPath` ('' = the app). */
function resolve(name, fromPath) {
  let base = fromPath;
  for (;;) {
    const candidate = (base ? `${base}/` : '') + `node_modules/${name}`;
    if (installed[candidate]) return candidate;
    if (!base) return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut < 0 ? '' : base.slice(0, cut);
  }
}

function dependencyNames(pkg) {
  return Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies });
}

const needed = new Set();
const queue = [];
function visit(name, fromPath) {
  if (buildOnly.has(name)) return;
  const path = resolve(name, fromPath);
  if (path === undefined || needed.has(path)) return;
  needed.add(path);
  queue.push(path);
}
for (const name of dependencyNames(root)) visit(name, '');
while (queue.length > 0) {
  const path = queue.shift();
  for (const name of dependencyNames(installed[path])) visit(name, path);
}

for (const path of Object.keys(installed)) {
  if (path === '' || needed.has(path)) continue;
  // A nested package of an unneeded one goes with its parent; list only the outermost.
  const parentUnneeded = [...path.matchAll(/\/node_modules\//g)].some((m) => {
    const parent = path.slice(0, m.index);
    return installed[parent] && !needed.has(parent);
  });
  if (!parentUnneeded) console.log(path);
}
