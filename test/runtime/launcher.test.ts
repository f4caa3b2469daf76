/**
 * The launcher (bin/roadlink) decides how node runs: which flags each command gets on a head unit,
 * what ROADLINK_NODE_FLAGS replaces, where the bundle or checkout is when it is called through a
 * symlink. Here it runs in an ARM bundle's layout whose runtime/bin/node is a script that prints
 * what it was given, and in a checkout's layout with such a script as the `node` on PATH.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const LAUNCHER = fileURLToPath(new URL('../../bin/roadlink', import.meta.url));
const PRINT_ARGS = '#!/bin/sh\nprintf "%s\\n" "MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX" "$@"\n';

const bundle = mkdtempSync(join(tmpdir(), 'roadlink-launcher-'));
mkdirSync(join(bundle, 'bin'));
mkdirSync(join(bundle, 'runtime', 'bin'), { recursive: true });
copyFileSync(LAUNCHER, join(bundle, 'bin', 'roadlink'));
chmodSync(join(bundle, 'bin', 'roadlink'), 0o755);
symlinkSync('roadlink', join(bundle, 'bin', 'roadlink-node'));
writeFileSync(join(bundle, 'runtime', 'bin', 'node'), PRINT_ARGS);
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
const bundleFlags = ['--v8-pool-size=0', '--max-semi-space-size=1', '--max-old-space-size=128'];

describe('bundle launcher', () => {
  it('runs the agent with the heap limits and without the optimising compiler', () => {
    expect(launch(join(bundle, 'bin', 'roadlink'), ['run', '--config', 'c.yaml'])).toEqual(['MALLOC_ARENA_MAX=2', ...bundleFlags, '--no-turbofan', main, 'run', '--config', 'c.yaml']);
  });

  it('keeps the optimising compiler for the other commands (decode works through big logs)', () => {
    expect(launch(join(bundle, 'bin', 'roadlink'), ['decode', '--dbc', 'x.dbc', 'run'])).toEqual(['MALLOC_ARENA_MAX=2', ...bundleFlags, main, 'decode', '--dbc', 'x.dbc', 'run']);
    expect(launch(join(bundle, 'bin', 'roadlink'), [])).toEqual(['MALLOC_ARENA_MAX=2', ...bundleFlags, main]);
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

describe('checkout launcher', () => {
  // A checkout (or npm install): bin/roadlink beside dist/, node from PATH.
  const checkout = join(bundle, 'checkout');
  const pathDir = join(bundle, 'path');
  mkdirSync(join(checkout, 'bin'), { recursive: true });
  mkdirSync(pathDir);
  copyFileSync(LAUNCHER, join(checkout, 'bin', 'roadlink'));
  chmodSync(join(checkout, 'bin', 'roadlink'), 0o755);
  writeFileSync(join(pathDir, 'node'), PRINT_ARGS);
  chmodSync(join(pathDir, 'node'), 0o755);
  const path = `${pathDir}:${process.env.PATH}`;
  const checkoutMain = join(checkout, 'dist', 'apps', 'cli', 'main.js');

  it('runs node from PATH on dist/ with V8 helper threads sized to the machine, without the head-unit limits', () => {
    expect(launch(join(checkout, 'bin', 'roadlink'), ['decode', 'x.log'], { PATH: path })).toEqual(['MALLOC_ARENA_MAX=', '--v8-pool-size=0', checkoutMain, 'decode', 'x.log']);
    expect(launch(join(checkout, 'bin', 'roadlink'), ['run'], { PATH: path })).toEqual(['MALLOC_ARENA_MAX=', '--v8-pool-size=0', checkoutMain, 'run']);
    expect(launch(join(checkout, 'bin', 'roadlink'), ['run'], { PATH: path, ROADLINK_NODE_FLAGS: '' })).toEqual(['MALLOC_ARENA_MAX=', checkoutMain, 'run']);
  });

  it('finds the checkout through a symlink (npm link, npm install -g)', () => {
    const link = join(pathDir, 'roadlink');
    symlinkSync(join(checkout, 'bin', 'roadlink'), link);
    expect(launch(link, ['--version'], { PATH: path })).toEqual(['MALLOC_ARENA_MAX=', '--v8-pool-size=0', checkoutMain, '--version']);
  });
});
