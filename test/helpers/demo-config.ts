/**
 * The demo configuration as `roadlink demo` uses it, in a fresh folder (apps/demo/demo-runner.ts
 * prepareDemoFolder: config and DBC copies, the drive as demo-drive.log, a command-signing key pair).
 * The drive starts at demoDriveLog's fixed default time, so tests see the same frames every run.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_START_US } from '../../apps/demo/demo-log.js';
import { prepareDemoFolder, type DemoFolder } from '../../apps/demo/demo-runner.js';

export const DEMO_EXAMPLE_DIR = resolve(import.meta.dirname, '../../examples/demo');

/** `edit` may change the configuration text before it is written (a variant of the demo). */
export function demoFolder(edit?: (yaml: string) => string): DemoFolder {
  return prepareDemoFolder(mkdtempSync(join(tmpdir(), 'roadlink-demo-')), { startUs: DEFAULT_START_US, editConfig: edit });
}
