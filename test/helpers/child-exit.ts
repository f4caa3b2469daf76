import type { ChildProcess } from 'node:child_process';

/** Resolves when `child` has exited (at once when it is not running). */
export async function childExit(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
}
