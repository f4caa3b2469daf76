/**
 * Serves the fleet web page beside the Web API, as public routes of the API's Fastify instance (the
 * page asks for the API key itself; the API's routes still need it). `/` redirects to the page; only
 * the files of the page's table (fleet-page-files.ts) are served, read once and then kept.
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FLEET_PAGE_PREFIX, fleetPageFiles, type PageFile } from './fleet-page-files.js';

const PUBLIC = { config: { public: true } } as const;

/** Adds the page's routes to the API server (before it listens). */
export function fleetPageRoutes(app: FastifyInstance): void {
  const files = fleetPageFiles();
  const cache = new Map<string, Promise<Buffer>>();
  const contents = (page: PageFile): Promise<Buffer> => {
    let bytes = cache.get(page.file);
    if (!bytes) cache.set(page.file, (bytes = readFile(page.file)));
    return bytes;
  };
  const toPage = async (_request: FastifyRequest, reply: FastifyReply) => reply.redirect(FLEET_PAGE_PREFIX, 302);

  app.get('/', PUBLIC, toPage);
  app.get(FLEET_PAGE_PREFIX.slice(0, -1), PUBLIC, toPage);
  // Looked up by the path as sent (no `..` or %-decoding applied): only the table's URLs exist.
  app.get(`${FLEET_PAGE_PREFIX}*`, PUBLIC, async (request, reply) => {
    const page = files.get(request.url.split('?')[0]);
    if (!page) return reply.code(404).type('text/plain; charset=utf-8').send(`no page file ${request.url}\n`);
    try {
      const bytes = await contents(page);
      return reply.headers({ 'content-type': page.contentType, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' }).send(bytes);
    } catch (error) {
      cache.delete(page.file);
      return reply.code(500).type('text/plain; charset=utf-8').send(`cannot read ${page.file}: ${(error as Error).message}\n`);
    }
  });
  app.route({
    method: ['POST', 'PUT', 'PATCH', 'DELETE'],
    url: `${FLEET_PAGE_PREFIX}*`,
    ...PUBLIC,
    handler: async (_request, reply) => reply.code(405).header('allow', 'GET, HEAD').send(),
  });
}
