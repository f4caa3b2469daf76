/**
 * Serves the fleet web page beside the Web API on one port. The page's files are public (the page
 * asks for the API key itself), while the API's authentication hook covers every route of its
 * Fastify instance; so the page is answered in front of Fastify, on the same HTTP server, and every
 * other request goes on to the API untouched. `/` redirects to the page.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { FLEET_PAGE_PREFIX, fleetPageFiles, type PageFile } from './fleet-page-files.js';

export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

/** Answers the page's URLs; calls `next` for every other one. Files are read once, then kept. */
export function fleetPageHandler(next: RequestHandler): RequestHandler {
  const files = fleetPageFiles();
  const cache = new Map<string, Promise<Buffer>>();
  const contents = (page: PageFile): Promise<Buffer> => {
    let bytes = cache.get(page.file);
    if (!bytes) cache.set(page.file, (bytes = readFile(page.file)));
    return bytes;
  };

  return (request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/' || path === FLEET_PAGE_PREFIX.slice(0, -1)) {
      response.writeHead(302, { location: FLEET_PAGE_PREFIX }).end();
      return;
    }
    if (!path.startsWith(FLEET_PAGE_PREFIX)) {
      next(request, response);
      return;
    }
    const page = files.get(path);
    if (!page) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`no page file ${path}\n`);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    contents(page).then(
      (bytes) => {
        response.writeHead(200, { 'content-type': page.contentType, 'content-length': bytes.length, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
        response.end(request.method === 'HEAD' ? undefined : bytes);
      },
      (error: Error) => {
        cache.delete(page.file);
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`cannot read ${path}: ${error.message}\n`);
      },
    );
  };
}

/**
 * Puts the page in front of the API on the API's own HTTP server (call it before or after
 * `app.listen`): Fastify's request listener becomes the `next` of fleetPageHandler, so `listen`,
 * `close` and every API route stay as they are. (`app.inject` bypasses the HTTP server: it sees only the API.)
 */
export function attachFleetPage(app: FastifyInstance): void {
  const listeners = app.server.listeners('request') as RequestHandler[];
  if (listeners.length !== 1) throw new Error(`attachFleetPage: expected Fastify's one request listener, found ${listeners.length}`);
  app.server.removeListener('request', listeners[0]);
  app.server.on('request', fleetPageHandler(listeners[0]));
}
