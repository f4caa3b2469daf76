// Runs on the bundled node (under qemu) from inside the bundle's app/ dir: the bundle's default
// config (what install.sh puts in /etc/roadlink/config.yaml) passes the agent's own config check,
// and the files the agent writes land where roadlink.service lets it write (ProtectSystem=strict
// leaves only the state and cache directories writable). A path outside them is reported as a
// WARNING line; with --strict it fails the check. The config is read as under the unit: with
// $STATE_DIRECTORY and $CACHE_DIRECTORY set (relative state paths resolve against the first).
// usage: config-check.mjs <config.yaml> [--strict]
import { dirname, resolve } from 'node:path';

const [path, flag] = process.argv.slice(2);
if (!path) throw new Error('usage: config-check.mjs <config.yaml> [--strict]');
const INSTALLED_DIR = '/etc/roadlink';
const STATE_DIR = '/var/lib/roadlink'; // StateDirectory=roadlink
const CACHE_DIR = '/var/cache/roadlink'; // CacheDirectory=roadlink
process.env.STATE_DIRECTORY = STATE_DIR;
process.env.CACHE_DIRECTORY = CACHE_DIR;
const { loadAgentConfig } = await import('../dist/agent/runtime/agent-config.js');
const { defaultCacheDir } = await import('../dist/agent/decode/dbc-cache.js');

let config;
try {
  config = loadAgentConfig(path);
} catch (err) {
  console.error(`config-check: the bundle's default config is invalid:\n${err.message}`);
  process.exit(1);
}
console.log(`  ${path}: valid (${config.buses?.length ?? 0} buses, ${config.rules?.length ?? 0} rules)`);

// Paths relative to the config resolve against its folder: /etc/roadlink once installed.
const bundleDir = dirname(resolve(path));
const installed = (p) => (p.startsWith(`${bundleDir}/`) ? INSTALLED_DIR + p.slice(bundleDir.length) : p);
const written = [
  ['storage.path', config.storage?.path],
  ['commands.audit_log.path', config.commands?.auditLog?.path],
  ['parsed DBC cache', `${defaultCacheDir()}/`],
].filter(([, p]) => typeof p === 'string');
let outside = 0;
for (const [key, p] of written) {
  const where = installed(p);
  if (where.startsWith(`${STATE_DIR}/`) || where.startsWith(`${CACHE_DIR}/`)) {
    console.log(`  ${key}: ${where} (writable under roadlink.service)`);
  } else {
    outside++;
    console.log(`  WARNING ${key}: ${where} is read-only under roadlink.service (ProtectSystem=strict); set it under ${STATE_DIR}/`);
  }
}
if (outside > 0 && flag === '--strict') process.exit(1);
