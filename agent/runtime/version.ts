/** The agent's version: package.json's. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../wire/package-root.js';

export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export const AGENT_VERSION = packageVersion();
