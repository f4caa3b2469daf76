/**
 * /monitors: geofence monitors (GeoJSON circle = Point + radiusM, or Polygon), pushed to the vehicle
 * as signed rules updates (backend/remote/monitor-rules.ts); transitions reach the callback URL
 * through the webhook dispatcher (backend/webhooks/).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { MonitorRecord, MonitorShape, MonitorUpdate } from '../../db/backend-store.js';
import { accessOf, paramsOf, queryOf, sendHal, type ApiContext } from '../api-context.js';
import { halPage, vehiclePath } from '../hal.js';
import { ApiProblem } from '../problem.js';
import { single } from '../query-params.js';
import { bodyObject, lonLat, numberField, stringField, urlField, type JsonObject } from '../request-body.js';
import { eventResource, monitorResource } from '../representations.js';
import { PublishError } from '../../remote/vehicle-publisher.js';
import { listQuery } from './vehicle-routes.js';

const VIN = /^[A-HJ-NPR-Z0-9]{17}$/;
const SECRET_MIN = 16;

function shapeOf(body: JsonObject): { kind: MonitorRecord['kind']; shape: MonitorShape } {
  const geometry = body.geometry;
  if (typeof geometry !== 'object' || geometry === null || Array.isArray(geometry)) throw ApiProblem.invalid('/geometry', 'body', 'is required: a GeoJSON Point (with radiusM) or Polygon');
  const { type, coordinates } = geometry as JsonObject;
  const radiusM = numberField(body, 'radiusM', 1, 1e7);
  if (type === 'Point') {
    if (radiusM === undefined) throw ApiProblem.invalid('/radiusM', 'body', 'is required with a Point geometry (the circle radius in metres)');
    return { kind: 'geofence-circle', shape: { center: lonLat(coordinates, '/geometry/coordinates'), radiusM } };
  }
  if (type === 'Polygon') {
    if (radiusM !== undefined) throw ApiProblem.invalid('/radiusM', 'body', 'is only for a Point geometry');
    if (!Array.isArray(coordinates) || coordinates.length !== 1) throw ApiProblem.invalid('/geometry/coordinates', 'body', 'must hold exactly one linear ring (no holes)');
    const ring = coordinates[0] as unknown;
    if (!Array.isArray(ring) || ring.length < 4) throw ApiProblem.invalid('/geometry/coordinates/0', 'body', 'a ring needs at least 4 positions (3 corners, closed)');
    const points = ring.map((p, i) => lonLat(p, `/geometry/coordinates/0/${i}`));
    const [first, last] = [points[0], points.at(-1)!];
    if (first[0] !== last[0] || first[1] !== last[1]) throw ApiProblem.invalid('/geometry/coordinates/0', 'body', 'the ring must be closed (last position = first)');
    return { kind: 'geofence-polygon', shape: { ring: points } };
  }
  throw ApiProblem.invalid('/geometry/type', 'body', "must be 'Point' or 'Polygon'");
}

export function monitorRoutes(app: FastifyInstance, context: ApiContext): void {
  const { store } = context;

  /** The monitor of the path, visible to the key with `scope`. */
  async function monitorOf(request: FastifyRequest, scope: 'read' | 'remote'): Promise<MonitorRecord> {
    const access = accessOf(request);
    access.require(scope);
    const id = paramsOf(request).monitorId;
    const monitor = await store.monitor(id);
    if (!monitor) throw ApiProblem.notFound(`no monitor ${id}`);
    access.requireVehicle(monitor.vin, scope);
    return monitor;
  }

  const rulesOrUnavailable = () => {
    if (!context.monitorRules) throw new ApiProblem(503, 'monitors need a broker and a signing key on this backend (--broker, --key)');
    return context.monitorRules;
  };

  app.post('/monitors', async (request, reply) => {
    const access = accessOf(request);
    access.require('remote');
    const body = bodyObject(request, ['vin', 'geometry', 'radiusM', 'callbackUrl', 'secret']);
    const vin = stringField(body, 'vin', { required: true, pattern: VIN, hint: 'must be a VIN (17 characters A-Z without I, O, Q, and 0-9)' })!;
    const { kind, shape } = shapeOf(body);
    const callbackUrl = urlField(body, 'callbackUrl', true)!;
    const secret = stringField(body, 'secret', { minLength: SECRET_MIN }) ?? randomBytes(24).toString('base64url');
    access.requireVehicle(vin, 'remote');
    if (!(await store.vehicle(vin))) throw ApiProblem.notFound(`no vehicle ${vin}`);
    const rules = rulesOrUnavailable();
    const monitor = await store.createMonitor({ id: `mon-${randomBytes(8).toString('hex')}`, vin, kind, shape, callbackUrl, secret, createdMs: context.now() });
    try {
      await rules.install(monitor);
    } catch (error) {
      await store.deleteMonitor(monitor.id);
      if (error instanceof PublishError) throw new ApiProblem(503, `the rules update could not be sent: ${error.message}`);
      throw error;
    }
    const resource = monitorResource(monitor, { withSecret: true });
    reply.header('location', `/monitors/${monitor.id}`);
    return sendHal(reply, 201, resource);
  });

  app.get('/monitors', async (request, reply) => {
    const access = accessOf(request);
    access.require('read');
    const vin = single(queryOf(request), 'vin');
    if (vin !== undefined) {
      if (!VIN.test(vin)) throw ApiProblem.invalid('vin', 'query', 'must be a VIN (17 characters A-Z without I, O, Q, and 0-9)');
      access.requireVehicle(vin, 'read');
    }
    const { limit, after, page } = listQuery(request);
    const monitors = await store.monitors({ vin, limit, after });
    const items = monitors.items.filter((m) => access.canSee(m.vin)).map((m) => monitorResource(m));
    return sendHal(reply, 200, halPage({ ...monitors, items }, 'monitors', page));
  });

  app.get('/monitors/:monitorId', async (request, reply) => sendHal(reply, 200, monitorResource(await monitorOf(request, 'read'))));

  app.patch('/monitors/:monitorId', async (request, reply) => {
    const monitor = await monitorOf(request, 'remote');
    const body = bodyObject(request, ['callbackUrl', 'secret']);
    const update: MonitorUpdate = { updatedMs: context.now() };
    const callbackUrl = urlField(body, 'callbackUrl', false);
    const secret = stringField(body, 'secret', { minLength: SECRET_MIN });
    if (callbackUrl === undefined && secret === undefined) throw ApiProblem.invalid('/', 'body', 'give callbackUrl and/or secret');
    if (callbackUrl !== undefined) update.callbackUrl = callbackUrl;
    if (secret !== undefined) update.secret = secret;
    const updated = await store.updateMonitor(monitor.id, update);
    if (!updated) throw ApiProblem.notFound(`no monitor ${monitor.id}`);
    return sendHal(reply, 200, monitorResource(updated));
  });

  app.delete('/monitors/:monitorId', async (request, reply) => {
    const monitor = await monitorOf(request, 'remote');
    if (monitor.state !== 'failed') {
      try {
        await rulesOrUnavailable().remove(monitor);
      } catch (error) {
        if (error instanceof PublishError) throw new ApiProblem(503, `the rules update removing it could not be sent: ${error.message}`);
        throw error;
      }
    }
    await store.deleteMonitor(monitor.id);
    return reply.code(204).send();
  });

  app.get('/monitors/:monitorId/transitions', async (request, reply) => {
    const monitor = await monitorOf(request, 'read');
    const { page, ...query } = listQuery(request);
    const events = await store.monitorTransitions(monitor.id, query);
    return sendHal(reply, 200, halPage({ ...events, items: events.items.map(eventResource) }, 'events', page, { vehicle: { href: vehiclePath(monitor.vin) } }));
  });
}
