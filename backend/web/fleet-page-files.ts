/**
 * What the fleet web page is made of, by URL under /fleet/: the page's own files (backend/web/public/,
 * plain ES modules, no build step) and what it uses from installed packages — Leaflet (map), the
 * Natural Earth countries of world-atlas as the offline basemap (TopoJSON), topojson-client's ES
 * sources to read it. A fixed table: nothing outside it is ever served.
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { packageRoot } from '../../wire/package-root.js';

export const FLEET_PAGE_PREFIX = '/fleet/';

export interface PageFile {
  file: string;
  contentType: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

function contentTypeOf(file: string): string {
  const type = CONTENT_TYPES[extname(file)];
  if (!type) throw new Error(`no content type for ${file}`);
  return type;
}

/** Every file of `dir` with an extension we serve, under `urlDir`. */
function folder(urlDir: string, dir: string): [string, string][] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && CONTENT_TYPES[extname(entry.name)] !== undefined)
    .map((entry) => [`${urlDir}${entry.name}`, join(dir, entry.name)]);
}

/** The URL → file table of the page. */
export function fleetPageFiles(): Map<string, PageFile> {
  const require = createRequire(import.meta.url);
  const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));
  const leaflet = join(packageDir('leaflet'), 'dist');
  const publicDir = join(packageRoot(), 'backend', 'web', 'public');
  const entries: [string, string][] = [
    [FLEET_PAGE_PREFIX, join(publicDir, 'index.html')],
    ...folder(FLEET_PAGE_PREFIX, publicDir),
    [`${FLEET_PAGE_PREFIX}vendor/leaflet/leaflet.css`, join(leaflet, 'leaflet.css')],
    [`${FLEET_PAGE_PREFIX}vendor/leaflet/leaflet-src.esm.js`, join(leaflet, 'leaflet-src.esm.js')],
    ...folder(`${FLEET_PAGE_PREFIX}vendor/leaflet/images/`, join(leaflet, 'images')),
    ...folder(`${FLEET_PAGE_PREFIX}vendor/topojson-client/`, join(packageDir('topojson-client'), 'src')),
    [`${FLEET_PAGE_PREFIX}basemap/countries-50m.json`, join(packageDir('world-atlas'), 'countries-50m.json')],
  ];
  return new Map(entries.map(([url, file]) => [url, { file, contentType: contentTypeOf(file) }]));
}
