/** /vehicles, /vehicles/{vin}, its status, trips and event histories (alerts, maintenance, collisions). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EventKind } from '../../db/backend-store.js';
import { accessOf, pathOf, plainQuery, queryOf, requireKnownVehicle, sendHal, vinParam, type ApiContext } from '../api-context.js';
import { halPage, vehiclePath } from '../hal.js';
import { ApiProblem } from '../problem.js';
import { decodeTrail, limitParam, timeRange } from '../query-params.js';
import { eventResource, statusResource, tripResource, vehicleResource } from '../representations.js';
import { MAX_PAGE_SIZE } from '../openapi.js';

export const DEFAULT_PAGE_SIZE = 20;

/** Paging and time-range parameters of a list request. */
export function listQuery(request: FastifyRequest) {
  const query = queryOf(request);
  const trail = decodeTrail(query);
  return {
    ...timeRange(query),
    limit: limitParam(query, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE),
    after: trail.at(-1),
    page: { path: pathOf(request), query: plainQuery(request), trail },
  };
}

const EVENT_LISTS: [path: string, kind: EventKind][] = [
  ['alerts', 'alert'],
  ['maintenance', 'maintenance'],
  ['collisions', 'collision'],
];

export function vehicleRoutes(app: FastifyInstance, context: ApiContext): void {
  const { store } = context;

  app.get('/vehicles', async (request, reply) => {
    const access = accessOf(request);
    access.require('read');
    const { limit, after, page } = listQuery(request);
    const vehicles = await store.listVehicles({ limit, after, vins: access.vins });
    return sendHal(reply, 200, halPage({ ...vehicles, items: vehicles.items.map(vehicleResource) }, 'vehicles', page));
  });

  app.get('/vehicles/:vin', async (request, reply) => {
    const vin = vinParam(request);
    const vehicle = await store.vehicle(vin);
    if (!vehicle) throw ApiProblem.notFound(`no vehicle ${vin}`);
    return sendHal(reply, 200, vehicleResource(vehicle));
  });

  app.get('/vehicles/:vin/status', async (request, reply) => {
    const vin = vinParam(request);
    const status = await store.status(vin);
    if (!status) {
      await requireKnownVehicle(context, vin);
      throw ApiProblem.notFound(`vehicle ${vin} has sent no status yet`);
    }
    return sendHal(reply, 200, statusResource(status));
  });

  app.get('/vehicles/:vin/trips', async (request, reply) => {
    const vin = vinParam(request);
    const { page, ...query } = listQuery(request);
    await requireKnownVehicle(context, vin);
    const trips = await store.trips(vin, query);
    return sendHal(reply, 200, halPage({ ...trips, items: trips.items.map(tripResource) }, 'trips', page, { vehicle: { href: vehiclePath(vin) } }));
  });

  app.get('/vehicles/:vin/trips/:tripId', async (request, reply) => {
    const vin = vinParam(request);
    const { tripId } = request.params as { tripId: string };
    const trip = await store.trip(vin, /^\d{1,15}$/.test(tripId) ? Number(tripId) : tripId);
    if (!trip) throw ApiProblem.notFound(`vehicle ${vin} has no trip ${tripId}`);
    return sendHal(reply, 200, tripResource(trip));
  });

  for (const [path, kind] of EVENT_LISTS) {
    app.get(`/vehicles/:vin/${path}`, async (request, reply) => {
      const vin = vinParam(request);
      const { page, ...query } = listQuery(request);
      await requireKnownVehicle(context, vin);
      const events = await store.events(vin, { ...query, kinds: [kind] });
      return sendHal(reply, 200, halPage({ ...events, items: events.items.map(eventResource) }, 'events', page, { vehicle: { href: vehiclePath(vin) } }));
    });
  }
}
