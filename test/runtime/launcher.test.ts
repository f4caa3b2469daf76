/**
 * The ARM bundle's launcher (cross-build/launcher/roadlink) decides how node runs on a head unit:
 * which flags each command gets, what ROADLINK_NODE_FLAGS replaces, where the bundle is when it is
 * called through a symlink. Here it runs in a bundle layout whose runtime/bin/node is a script that
 * prints what it was given.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const LAUNCHER = fileURLToPath(new URL('../../cross-build/launcher/roadlink', import.meta.url));

const bundle = mkdtempSync(join(tmpdir(), 'roadlink-launcher-'));
mkdirSync(join(bundle, 'bin'));
mkdirSync(join(bundle, 'runtime', 'bin'), { recursive: true });
copyFileSync(LAUNCHER, join(bundle, 'bin', 'roadlink'));
chmodSync(join(bundle, 'bin', 'roadlink'), 0o755);
symlinkSync('roadlink', join(bundle, 'bin', 'roadlink-node'));
writeFileSync(join(bundle, 'runtime', 'bin', 'node'), '#!/bin/sh\nprintf "%s\\n" "MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX" "$@"\n');
chmodSync(join(bundle, 'runtime', 'bin', 'node'), 0o755);
afterAll(() => rmSync(bundle, { recursive: true, force: true }));

/** What the bundled node was started with: its environment line, then its arguments. */
function launch(program: string, args: string[], env: Record<string, string> = {}): string[] {
  const environment = { ...process.env, ...env };
  if (!('ROADLINK_NODE_FLAGS' in env)) delete environment.ROADLINK_NODE_FLAGS;
  if (!('MALLOC_ARENA_MAX' in env)) delete environment.MALLOC_ARENA_MAX;
  return execFileSync(program, args, { env: environment, encoding: 'utf8' }).trimEnd().split('\n');
}

const main = join(bundle, 'app', 'dist', 'apps', 'cli', 'main.js');
const heapFlags = ['--max-semi-space-size=1', '--max-old-space-size=128'];

describe('bundle launcher', () => {
  it('runs the agent with the heap limits and without the optimising compiler', () => {
    expect(launch(join(bundle, 'bin', 'roadlink'), ['run', '--config', 'c.yaml'])).toEqual(['MALLOC_ARENA_MAX=2', ...heapFlags, '--no-turbofan', main, 'run', '--config', 'c.yaml']);
  });

  it('keeps the optimising compiler for the other commands (decode works through big logs)', () => {
    expect(launch(join(bundle, 'bin', 'roadlink'), ['decode', '--dbc', 'x.dbc', 'run'])).toEqual(['MALLOC_ARENA_MAX=2', ...heapFlags, main, 'decode', '--dbc', 'x.dbc', 'run']);
    expect(launch(join(bundle, 'bin', 'roadlink'), [])).toEqual(['MALLOC_ARENA_MAX=2', ...heapFlags, main]);
  });

  it('lets ROADLINK_NODE_FLAGS replace every flag, even with nothing, and keeps a MALLOC_ARENA_MAX already set', () => {
    expect(launch(join(bundle, 'bin', 'roadlink'), ['run'], { ROADLINK_NODE_FLAGS: '--max-old-space-size=64', MALLOC_ARENA_MAX: '4' })).toEqual(['MALLOC_ARENA_MAX=4', '--max-old-space-size=64', main, 'run']);
    expect(launch(join(bundle, 'bin', 'roadlink'), ['run'], { ROADLINK_NODE_FLAGS: '' })).toEqual(['MALLOC_ARENA_MAX=2', main, 'run']);
  });

  it('finds its bundle through a symlink, and runs node itself as roadlink-node', () => {
    const link = join(bundle, 'elsewhere-roadlink');
    symlinkSync(join(bundle, 'bin', 'roadlink'), link);
    expect(launch(link, ['run']).at(-2)).toBe(main);
    expect(launch(join(bundle, 'bin', 'roadlink-node'), ['-e', '1'])).toEqual(['MALLOC_ARENA_MAX=2', '-e', '1']);
  });
});
