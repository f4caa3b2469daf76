/**
 * The demo vehicle for benchmarks: a fresh demo folder (apps/demo/demo-runner.ts prepareDemoFolder:
 * demo.yaml, the demo DBC, the drive as demo-drive.log, a command-signing key pair) whose demo.yaml
 * gets benchmark edits, each of which must apply (a changed demo.yaml fails loudly, not silently).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../agent/config/config.js';
import { loadAgentConfig } from '../../agent/runtime/agent-config.js';
import { loadDbcFile, type DbcDatabase } from '../../agent/decode/dbc-loader.js';
import { prepareDemoFolder } from '../../apps/demo/demo-runner.js';

export interface BenchDemo {
  dir: string;
  db: DbcDatabase;
  /** Path of the drive log the replay bus names. */
  log: string;
  /** The edited demo.yaml, loaded anew at each call (one Config per agent). */
  config(): Config;
  dispose(): void;
}

/** [text to find, replacement]. */
export type YamlEdit = [RegExp | string, string];

export function benchDemo(edits: YamlEdit[]): BenchDemo {
  const editConfig = (yaml: string) =>
    edits.reduce((text, [find, replace]) => {
      const edited = text.replace(find, replace);
      if (edited === text) throw new Error(`bench: examples/demo/demo.yaml has no ${String(find)} to edit`);
      return edited;
    }, yaml);
  const folder = prepareDemoFolder(mkdtempSync(join(tmpdir(), 'roadlink-bench-demo-')), { editConfig });
  const config = () => loadAgentConfig(folder.config);
  config(); // a bad edit fails here
  return {
    dir: folder.dir,
    db: loadDbcFile(join(folder.dir, 'demo-vehicle.dbc')).db,
    log: folder.log,
    config,
    dispose: () => rmSync(folder.dir, { recursive: true, force: true }),
  };
}
