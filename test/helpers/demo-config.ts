/**
 * The demo configuration as `roadlink demo` uses it: examples/demo/demo.yaml and its DBC copied into a
 * fresh folder, with the demo drive written there as demo-drive.log (the file its replay bus names).
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadDbcFile } from '../../agent/decode/dbc-loader.js';
import { demoDriveLog } from '../../agent/demo/demo-log.js';

export const DEMO_EXAMPLE_DIR = resolve(import.meta.dirname, '../../examples/demo');

export interface DemoFolder {
  dir: string;
  config: string;
  log: string;
}

/** `edit` may change the configuration text before it is written (a variant of the demo). */
export function demoFolder(edit: (yaml: string) => string = (yaml) => yaml): DemoFolder {
  const dir = mkdtempSync(join(tmpdir(), 'roadlink-demo-'));
  const dbc = join(dir, 'demo-vehicle.dbc');
  copyFileSync(join(DEMO_EXAMPLE_DIR, 'demo-vehicle.dbc'), dbc);
  const log = join(dir, 'demo-drive.log');
  writeFileSync(log, demoDriveLog(loadDbcFile(dbc).db));
  const config = join(dir, 'demo.yaml');
  writeFileSync(config, edit(readFileSync(join(DEMO_EXAMPLE_DIR, 'demo.yaml'), 'utf8')));
  return { dir, config, log };
}
