// Runs on the bundled node (under qemu) from inside the bundle's app/ dir: the bundle's default
// config (what install.sh puts in /etc/roadlink/config.yaml) passes the agent's own config check.
// usage: config-check.mjs <config.yaml>
const { loadConfig } = await import('../dist/agent/config/load-config.js');
const path = process.argv[2];
if (!path) throw new Error('usage: config-check.mjs <config.yaml>');
try {
  const config = loadConfig(path);
  console.log(`  ${path}: valid (${config.buses?.length ?? 0} buses, ${config.rules?.length ?? 0} rules)`);
} catch (err) {
  console.error(`config-check: the bundle's default config is invalid:\n${err.message}`);
  process.exit(1);
}
