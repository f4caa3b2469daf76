/**
 * The folder plan, enforced on the sources' relative imports: data flows drivers → agent → wire ←
 * backend, apps on top. wire/ is shared by the vehicle and the backend and imports neither;
 * agent/config/ is a leaf of the agent; nothing of the vehicle imports the backend or the apps; and
 * no module imports itself back through a cycle.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot as findRepoRoot } from '../helpers/corpus.js';

const repoRoot = findRepoRoot();

const ROOMS = ['agent', 'drivers', 'wire', 'backend', 'apps'];

function sources(dir: string): string[] {
  return readdirSync(join(repoRoot, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(repoRoot, join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)));
}

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of ROOMS.flatMap(sources)) {
    const text = readFileSync(join(repoRoot, file), 'utf8');
    const deps = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map((m) => normalize(join(dirname(file), m[1])).replace(/\.js$/, '.ts'));
    graph.set(file, deps);
  }
  return graph;
}

const graph = importGraph();
const edges = [...graph].flatMap(([from, deps]) => deps.map((to) => ({ from, to })));
const room = (path: string): string => path.split('/')[0];

describe('folder plan', () => {
  it('finds the rooms and their imports', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(edges.some((e) => e.from.startsWith('backend/') && e.to.startsWith('wire/'))).toBe(true);
  });

  it('wire/ imports only wire/ and the generated protobuf code', () => {
    expect(edges.filter((e) => room(e.from) === 'wire' && !['wire', 'proto'].includes(room(e.to)))).toEqual([]);
  });

  it('agent/config/ imports nothing else of the agent', () => {
    expect(edges.filter((e) => e.from.startsWith('agent/config/') && e.to.startsWith('agent/') && !e.to.startsWith('agent/config/'))).toEqual([]);
  });

  it('the vehicle (agent/, drivers/) imports neither the backend nor the apps; the backend not the vehicle', () => {
    const vehicle = ['agent', 'drivers'];
    expect(edges.filter((e) => vehicle.includes(room(e.from)) && ['backend', 'apps'].includes(room(e.to)))).toEqual([]);
    expect(edges.filter((e) => room(e.from) === 'backend' && ['agent', 'drivers', 'apps'].includes(room(e.to)))).toEqual([]);
  });

  it('has no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'open');
      stack.push(file);
      for (const dep of graph.get(file) ?? []) {
        if (!graph.has(dep)) continue;
        if (state.get(dep) === 'open') cycles.push([...stack.slice(stack.indexOf(dep)), dep].join(' -> '));
        else if (!state.has(dep)) visit(dep);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
