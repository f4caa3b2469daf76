/**
 * Process-level measurements for benchmarks: disk writes from /proc/self/io, the filesystem a folder
 * is on (tmpfs makes write_bytes read 0), and running a measurement in a child process so that its
 * writes and peak RSS are its own.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** write_bytes: bytes this process caused to be written to storage; wchar: bytes passed to write() calls. */
export function procIo(): { writeBytes: number; wchar: number } {
  const text = readFileSync('/proc/self/io', 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { writeBytes: field('write_bytes'), wchar: field('wchar') };
}

/** Filesystem type of the mount holding `dir` (from /proc/mounts). */
export function filesystemOf(dir: string): string {
  let best = { mount: '', type: '?' };
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const [, mount, type] = line.split(' ');
    if (mount && (dir === mount || dir.startsWith(mount.endsWith('/') ? mount : `${mount}/`)) && mount.length >= best.mount.length) best = { mount, type };
  }
  return best.type;
}

/**
 * Runs `node script ...args` with this process's node flags (so `node --no-turbofan run.js pipeline`
 * measures that mode) and resolves to the JSON it prints on stdout (its stderr passes through).
 */
export function runJsonChild<T>(script: string, args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as T) : reject(new Error(`${script} ${args.join(' ')} exited with ${code}`))));
  });
}
