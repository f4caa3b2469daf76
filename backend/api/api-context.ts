/** What the routes work with: the store, and the parts that reach vehicles (absent without a broker and a signing key). */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BackendStore } from '../db/backend-store.js';
import type { MonitorRules } from '../remote/monitor-rules.js';
import type { RemoteControl } from '../remote/remote-control.js';
import { Access } from './auth.js';
import { ApiProblem } from './problem.js';
import type { Query } from './query-params.js';

export interface ApiContext {
  store: BackendStore;
  remote?: RemoteControl;
  monitorRules?: MonitorRules;
  now: () => number;
}

export const HAL_JSON = 'application/hal+json';

export function sendHal(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type(HAL_JSON).send(JSON.stringify(body));
}

export function accessOf(request: FastifyRequest): Access {
  const access = (request as FastifyRequest & { access?: Access }).access;
  if (!access) throw new ApiProblem(401, 'not authenticated');
  return access;
}

export const queryOf = (request: FastifyRequest): Query => request.query as Query;
export const paramsOf = (request: FastifyRequest): Record<string, string> => request.params as Record<string, string>;

/** The request's path without its query string. */
export const pathOf = (request: FastifyRequest): string => request.url.split('?')[0];

/** Single-valued query parameters (for the links). */
export function plainQuery(request: FastifyRequest): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(queryOf(request))) out[k] = Array.isArray(v) ? v[0] : v;
  return out;
}

const VIN = /^[A-HJ-NPR-Z0-9]{17}$/;

/** The path's VIN, checked (400 when malformed, 403 outside the key's scope). */
export function vinParam(request: FastifyRequest, scope: 'read' | 'remote' = 'read'): string {
  const vin = paramsOf(request).vin ?? '';
  if (!VIN.test(vin)) throw ApiProblem.invalid('vin', 'path', 'must be 17 characters A-Z (without I, O, Q) and 0-9');
  accessOf(request).requireVehicle(vin, scope);
  return vin;
}

/** 404 unless the vehicle is known. */
export async function requireKnownVehicle(context: ApiContext, vin: string): Promise<void> {
  if (!(await context.store.vehicle(vin))) throw ApiProblem.notFound(`no vehicle ${vin}`);
}
