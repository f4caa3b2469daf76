/**
 * The Web API server (Fastify): bearer authentication on every route not marked public (the OpenAPI document, the fleet page), the
 * routes, and errors as problem documents (application/problem+json) — ours (ApiProblem), the
 * store's (StoreError → 400), Fastify's (malformed JSON, media type) and unknown routes (404).
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { StoreError } from '../db/backend-store.js';
import { Access, KeyResolver } from './auth.js';
import type { ApiContext } from './api-context.js';
import { openApiDocument } from './openapi.js';
import { ApiProblem } from './problem.js';
import { monitorRoutes } from './routes/monitor-routes.js';
import { remoteRoutes } from './routes/remote-routes.js';
import { telemetryRoutes } from './routes/telemetry-routes.js';
import { vehicleRoutes } from './routes/vehicle-routes.js';

export const PROBLEM_JSON = 'application/problem+json';

function asProblem(error: FastifyError | Error): ApiProblem {
  if (error instanceof ApiProblem) return error;
  if (error instanceof StoreError) return new ApiProblem(400, error.message);
  const status = (error as FastifyError).statusCode;
  if (status === 415) return new ApiProblem(415, 'send the body as application/json', [{ name: 'Content-Type', in: 'header', reason: 'must be application/json' }]);
  if (status !== undefined && status >= 400 && status < 500) return new ApiProblem(status, error.message, status === 400 ? [{ name: '/', in: 'body', reason: error.message }] : []);
  return new ApiProblem(500, 'internal error');
}

export interface ApiServerOptions {
  /** Fastify's logger (default off). */
  logger?: boolean;
  /** How long a token's key is remembered (KeyResolver). Default 5 s. */
  keyCacheMs?: number;
  /** Called with unexpected (5xx) errors. */
  onError?: (error: Error, request: FastifyRequest) => void;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a bearer key (the OpenAPI document, the fleet page's files). */
    public?: boolean;
  }
}

export function createApiServer(context: Omit<ApiContext, 'now'> & { now?: () => number }, options: ApiServerOptions = {}): FastifyInstance {
  const ctx: ApiContext = { ...context, now: context.now ?? Date.now };
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 1024 * 1024 });
  app.decorateRequest('access', null);
  app.removeContentTypeParser('text/plain'); // bodies are JSON only: anything else is a 415

  const keys = new KeyResolver(ctx.store, options.keyCacheMs);
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.public === true) return;
    const key = await keys.authenticate(request.headers.authorization);
    (request as FastifyRequest & { access?: Access }).access = new Access(key);
  });

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const problem = asProblem(error);
    if (problem.status >= 500 && !(error instanceof ApiProblem)) options.onError?.(error, request);
    if (problem.status === 401) reply.header('www-authenticate', 'Bearer realm="roadlink"');
    return reply.code(problem.status).type(PROBLEM_JSON).send(JSON.stringify(problem.document(request.url)));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).type(PROBLEM_JSON).send(JSON.stringify(ApiProblem.notFound(`no resource ${request.method} ${request.url.split('?')[0]}`).document(request.url))),
  );

  app.get('/openapi.json', { config: { public: true } }, async (_request, reply) => reply.type('application/json').send(JSON.stringify(openApiDocument)));
  vehicleRoutes(app, ctx);
  telemetryRoutes(app, ctx);
  remoteRoutes(app, ctx);
  monitorRoutes(app, ctx);
  return app;
}
