/**
 * The Web API's contract, written before the code: an OpenAPI 3.1 document (JSON Schema 2020-12
 * schemas), served at GET /openapi.json. The routes (backend/api/routes/) produce exactly these
 * shapes, and the tests validate every response they get against this document
 * (test/backend/api/openapi-validator.ts).
 *
 * Conventions: HAL (`_links`, `_embedded` for lists, media type application/hal+json), keyset paging
 * (`limit` 1..100, opaque `cursor`; links first/next/prev), RFC 3339 times in bodies and query
 * parameters, positions as GeoJSON (RFC 7946, [lon, lat]), errors as application/problem+json
 * (RFC 9457) with `invalid-params` naming the offending field.
 */

export const API_VERSION = '1.0.0';
export const MAX_PAGE_SIZE = 100;
export const MAX_SAMPLES = 10_000;

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const time = (description: string): Schema => ({ type: 'string', format: 'date-time', description });
const nullable = (schema: Schema): Schema => ({ oneOf: [schema, { type: 'null' }] });
const link: Schema = ref('Link');

/** `_links` with these relations required and `extra` optional. */
function links(required: string[], extra: string[] = []): Schema {
  const properties = Object.fromEntries([...required, ...extra].map((rel) => [rel, link]));
  return { type: 'object', required, properties, additionalProperties: link };
}

/** A HAL page: `_embedded.<rel>` holds the items. */
function halPage(rel: string, item: string): Schema {
  return {
    type: 'object',
    required: ['_links', '_embedded', 'count'],
    properties: {
      _links: links(['self', 'first'], ['next', 'prev', 'vehicle']),
      count: { type: 'integer', minimum: 0, description: 'Items on this page.' },
      _embedded: { type: 'object', required: [rel], properties: { [rel]: { type: 'array', items: ref(item) } }, additionalProperties: false },
    },
    additionalProperties: false,
  };
}

const HAL = 'application/hal+json';
const PROBLEM = 'application/problem+json';

const ok = (schema: string, description: string) => ({ description, content: { [HAL]: { schema: ref(schema) } } });
const problem = (description: string) => ({ description, content: { [PROBLEM]: { schema: ref('Problem') } } });
const readErrors = {
  '400': problem('Bad input: `invalid-params` names each offending parameter and why.'),
  '401': problem('No bearer token, or not a valid one.'),
  '403': problem('The key does not cover this vehicle, or lacks the scope.'),
};
const notFound = { '404': problem('No such vehicle (or resource) visible to this key.') };

const param = {
  vin: { name: 'vin', in: 'path', required: true, description: 'Vehicle identification number.', schema: { type: 'string', pattern: '^[A-HJ-NPR-Z0-9]{17}$' } },
  limit: { name: 'limit', in: 'query', description: `Page size, 1..${MAX_PAGE_SIZE} (default 20).`, schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE } },
  cursor: { name: 'cursor', in: 'query', description: 'Opaque page cursor from a `next`/`prev` link.', schema: { type: 'string' } },
  from: { name: 'from', in: 'query', description: 'Start of the time range (RFC 3339, inclusive).', schema: { type: 'string', format: 'date-time' } },
  to: { name: 'to', in: 'query', description: 'End of the time range (RFC 3339, exclusive).', schema: { type: 'string', format: 'date-time' } },
  skip: {
    name: 'skip',
    in: 'query',
    description: 'Items at exactly `from` to pass over: set by a `next` link (several samples can share one time), so pages neither repeat nor miss any.',
    schema: { type: 'integer', minimum: 0, maximum: MAX_SAMPLES },
  },
};
const listParams = [param.vin, param.from, param.to, param.limit, param.cursor];

function eventList(kind: string, summary: string) {
  return { get: { operationId: `list${kind}`, summary, tags: ['vehicles'], parameters: listParams, responses: { '200': ok('EventPage', 'A page of events, newest first.'), ...readErrors, ...notFound } } };
}

const schemas: Record<string, Schema> = {
  Link: { type: 'object', required: ['href'], properties: { href: { type: 'string' }, templated: { type: 'boolean' } } },
  Problem: {
    type: 'object',
    required: ['type', 'title', 'status'],
    properties: {
      type: { type: 'string', format: 'uri-reference' },
      title: { type: 'string' },
      status: { type: 'integer', minimum: 400, maximum: 599 },
      detail: { type: 'string' },
      instance: { type: 'string' },
      'invalid-params': {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'in', 'reason'],
          properties: { name: { type: 'string' }, in: { enum: ['path', 'query', 'body', 'header'] }, reason: { type: 'string' } },
          additionalProperties: false,
        },
      },
    },
  },
  Point: {
    type: 'object',
    required: ['type', 'coordinates'],
    properties: { type: { const: 'Point' }, coordinates: { type: 'array', minItems: 2, maxItems: 3, items: { type: 'number' }, description: '[lon, lat(, alt m)]' } },
  },
  Polygon: {
    type: 'object',
    required: ['type', 'coordinates'],
    properties: {
      type: { const: 'Polygon' },
      coordinates: { type: 'array', minItems: 1, maxItems: 1, items: { type: 'array', minItems: 4, items: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'number' } } } },
    },
  },
  PositionFeature: {
    type: 'object',
    required: ['type', 'geometry', 'properties'],
    properties: {
      type: { const: 'Feature' },
      geometry: ref('Point'),
      properties: {
        type: 'object',
        required: ['time', 'source'],
        properties: {
          time: nullable(time('When the fix was taken (null: unknown).')),
          speedKmh: { type: 'number' },
          headingDeg: { type: 'number' },
          source: { enum: ['CAN', 'GNSS', ''] },
        },
      },
    },
  },
  Vehicle: {
    type: 'object',
    required: ['vin', 'brand', 'model', 'fuelType', 'modelYear', 'capabilities', 'online', 'firstSeen', 'lastCheckin', '_links'],
    properties: {
      vin: { type: 'string' },
      brand: { type: 'string' },
      model: { type: 'string' },
      fuelType: { type: 'string' },
      modelYear: { type: 'integer' },
      agentVersion: { type: 'string' },
      configVersion: { type: 'string' },
      rulesVersion: { type: 'integer' },
      capabilities: { type: 'array', items: { type: 'string' } },
      online: { type: 'boolean' },
      firstSeen: time('First message from the vehicle.'),
      lastCheckin: nullable(time('Latest checkin.')),
      _links: links(['self', 'status', 'trips', 'telemetry', 'track', 'alerts', 'maintenance', 'collisions', 'remote']),
    },
    additionalProperties: false,
  },
  VehiclePage: halPage('vehicles', 'Vehicle'),
  Status: {
    type: 'object',
    required: ['vin', 'time', 'position', 'speedKmh', 'fuel', 'autonomy', 'odometerKm', 'ignition', 'doors', 'openDoors', 'locked', '_links'],
    properties: {
      vin: { type: 'string' },
      time: time('When the vehicle took this status.'),
      received: time('When the backend received it.'),
      position: nullable(ref('PositionFeature')),
      speedKmh: { type: 'number' },
      fuel: { type: 'object', required: ['levelPct', 'batterySocPct'], properties: { levelPct: { type: 'number' }, batterySocPct: { type: 'number' } } },
      autonomy: { type: 'object', required: ['rangeKm'], properties: { rangeKm: { type: 'number' } } },
      odometerKm: { type: 'number' },
      ignition: { enum: ['OFF', 'ACC', 'ON', ''] },
      doors: { type: 'array', items: { type: 'object', required: ['name', 'open', 'locked'], properties: { name: { type: 'string' }, open: { type: 'boolean' }, locked: { type: 'boolean' } } } },
      openDoors: { type: 'array', items: { type: 'string' } },
      locked: { type: 'boolean' },
      _links: links(['self', 'vehicle']),
    },
    additionalProperties: false,
  },
  TripEnd: {
    type: 'object',
    required: ['time', 'position'],
    properties: { time: time('Departure or arrival time.'), position: nullable(ref('Point')) },
  },
  Trip: {
    type: 'object',
    required: ['id', 'tripId', 'departure', 'arrival', 'distanceKm', 'durationS', 'consumption', '_links'],
    properties: {
      id: { type: 'string', description: 'Stable id of the trip record.' },
      tripId: { type: 'string', description: "The vehicle's own trip id." },
      departure: ref('TripEnd'),
      arrival: ref('TripEnd'),
      distanceKm: { type: 'number' },
      distanceSource: { type: 'string' },
      durationS: { type: 'number' },
      maxSpeedKmh: { type: 'number' },
      avgSpeedKmh: { type: 'number' },
      consumption: {
        type: 'object',
        required: ['fuelL', 'energyKwh', 'fuelLPer100Km'],
        properties: { fuelL: { type: 'number' }, energyKwh: { type: 'number' }, fuelLPer100Km: nullable({ type: 'number' }) },
      },
      _links: links(['self', 'vehicle', 'track']),
    },
    additionalProperties: false,
  },
  TripPage: halPage('trips', 'Trip'),
  Event: {
    type: 'object',
    required: ['id', 'kind', 'time', 'priority', 'position', 'detail', '_links'],
    properties: {
      id: { type: 'string' },
      kind: { enum: ['trip', 'collision', 'alert', 'maintenance', 'geofence', 'rule_trigger', 'ignition', 'threshold'] },
      time: time('When it happened.'),
      priority: { type: 'string' },
      monitorId: { type: 'string' },
      position: nullable(ref('Point')),
      detail: { type: 'object', description: 'The kind\'s fields (RFC 3339 times, GeoJSON positions; a collision has preWindow/postWindow sample windows).' },
      _links: links(['self', 'vehicle']),
    },
    additionalProperties: false,
  },
  EventPage: halPage('events', 'Event'),
  SignalList: {
    type: 'object',
    required: ['vin', 'signals', '_links'],
    properties: {
      vin: { type: 'string' },
      signals: { type: 'array', items: { type: 'object', required: ['name', 'unit'], properties: { name: { type: 'string' }, unit: { type: 'string' } } } },
      _links: links(['self', 'vehicle', 'samples', 'track']),
    },
    additionalProperties: false,
  },
  SampleSeries: {
    type: 'object',
    required: ['vin', 'signal', 'unit', 'from', 'to', 'count', 'samples', '_links'],
    properties: {
      vin: { type: 'string' },
      signal: { type: 'string' },
      unit: { type: 'string' },
      from: time('Start of the range.'),
      to: time('End of the range (exclusive).'),
      count: { type: 'integer' },
      samples: { type: 'array', items: { type: 'object', required: ['time', 'value'], properties: { time: { type: 'string', format: 'date-time' }, value: { type: 'number' } }, additionalProperties: false } },
      _links: links(['self', 'vehicle'], ['next']),
    },
    additionalProperties: false,
  },
  Track: {
    type: 'object',
    required: ['type', 'features', '_links'],
    description: 'GeoJSON FeatureCollection: a LineString of the positions in the range (properties.times: their times), or a single Point feature when there is one position, or no feature.',
    properties: {
      type: { const: 'FeatureCollection' },
      features: {
        type: 'array',
        items: {
          oneOf: [
            {
              type: 'object',
              required: ['type', 'geometry', 'properties'],
              properties: {
                type: { const: 'Feature' },
                geometry: { type: 'object', required: ['type', 'coordinates'], properties: { type: { const: 'LineString' }, coordinates: { type: 'array', minItems: 2, items: { type: 'array', minItems: 2, maxItems: 3, items: { type: 'number' } } } } },
                properties: { type: 'object', required: ['times'], properties: { times: { type: 'array', items: { type: 'string', format: 'date-time' } } } },
              },
            },
            ref('PositionFeature'),
          ],
        },
      },
      _links: links(['self', 'vehicle'], ['next']),
    },
  },
  RemoteActionRequest: {
    type: 'object',
    required: ['action'],
    properties: {
      action: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$', description: "A command of the vehicle's catalog (its capabilities cmd:NAME), e.g. door_lock, door_unlock, horn, lights, preconditioning_on." },
      args: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
    },
    additionalProperties: false,
  },
  RemoteAction: {
    type: 'object',
    required: ['id', 'vin', 'action', 'args', 'state', 'reason', 'detail', 'created', 'updated', 'completed', '_links'],
    properties: {
      id: { type: 'string' },
      vin: { type: 'string' },
      action: { type: 'string' },
      args: { type: 'object', additionalProperties: { type: 'string' } },
      state: { enum: ['PENDING', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'TIMEOUT', 'REJECTED'] },
      reason: { type: 'string', description: 'Machine-readable reason of FAILED/TIMEOUT/REJECTED (no_response: the vehicle did not answer before expiry).' },
      detail: { type: 'string' },
      created: time('When the action was requested.'),
      updated: time('Latest state change.'),
      completed: nullable(time('When the final state arrived.')),
      expires: time('The signed command is refused by the vehicle after this.'),
      _links: links(['self', 'vehicle']),
    },
    additionalProperties: false,
  },
  RemoteActionPage: halPage('actions', 'RemoteAction'),
  MonitorRequest: {
    type: 'object',
    required: ['vin', 'geometry', 'callbackUrl'],
    properties: {
      vin: { type: 'string' },
      geometry: { oneOf: [ref('Point'), ref('Polygon')], description: 'A circle (Point + radiusM) or a polygon (closed ring, [lon, lat]).' },
      radiusM: { type: 'number', minimum: 1, maximum: 1e7, description: 'Circle radius; required with a Point, refused with a Polygon.' },
      callbackUrl: { type: 'string', format: 'uri', description: 'http(s) URL that receives each transition (POST, JSON).' },
      secret: { type: 'string', minLength: 16, description: 'HMAC-SHA256 key for the Roadlink-Signature header; generated when absent (returned once).' },
    },
    additionalProperties: false,
  },
  MonitorUpdate: {
    type: 'object',
    minProperties: 1,
    properties: { callbackUrl: { type: 'string', format: 'uri' }, secret: { type: 'string', minLength: 16 } },
    additionalProperties: false,
  },
  Monitor: {
    type: 'object',
    required: ['id', 'vin', 'kind', 'geometry', 'state', 'error', 'callbackUrl', 'created', 'updated', '_links'],
    properties: {
      id: { type: 'string' },
      vin: { type: 'string' },
      kind: { enum: ['geofence-circle', 'geofence-polygon'] },
      geometry: { oneOf: [ref('Point'), ref('Polygon')] },
      radiusM: { type: 'number' },
      state: { enum: ['pending', 'active', 'failed'], description: 'pending until the vehicle acknowledges the rules update; failed with `error` when it refuses.' },
      error: { type: 'string' },
      callbackUrl: { type: 'string' },
      secret: { type: 'string', description: 'Only in the answer to the creation.' },
      created: time('Creation time.'),
      updated: time('Latest change.'),
      _links: links(['self', 'vehicle', 'transitions']),
    },
    additionalProperties: false,
  },
  MonitorPage: halPage('monitors', 'Monitor'),
  WebhookPayload: {
    type: 'object',
    description: 'What a monitor callback receives (POST, application/json; header Roadlink-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>).',
    required: ['monitorId', 'vin', 'eventId', 'transition', 'time', 'position'],
    properties: {
      monitorId: { type: 'string' },
      vin: { type: 'string' },
      eventId: { type: 'string' },
      transition: { enum: ['entered', 'left'] },
      time: { type: 'string', format: 'date-time' },
      position: nullable(ref('Point')),
    },
  },
};

const vehicleGet = (operationId: string, summary: string, schema: string, extra: unknown[] = []) => ({
  get: { operationId, summary, tags: ['vehicles'], parameters: [param.vin, ...extra], responses: { '200': ok(schema, summary), ...readErrors, ...notFound } },
});

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Roadlink connected-car Web API',
    version: API_VERSION,
    license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    description:
      'Served from what the vehicles upload (roadlink backend). Bearer API keys (`roadlink backend --create-key`) scoped to vehicles and to read and/or remote. ' +
      'HAL links, keyset paging (limit <= 100), RFC 3339 times, GeoJSON positions, RFC 9457 problem documents.',
  },
  servers: [{ url: '/' }],
  security: [{ bearer: [] }],
  tags: [{ name: 'vehicles' }, { name: 'remote' }, { name: 'monitors' }],
  paths: {
    '/openapi.json': { get: { operationId: 'openApi', summary: 'This document.', security: [], responses: { '200': { description: 'The OpenAPI document.', content: { 'application/json': { schema: { type: 'object' } } } } } } },
    '/vehicles': {
      get: { operationId: 'listVehicles', summary: 'Vehicles visible to the key, by VIN.', tags: ['vehicles'], parameters: [param.limit, param.cursor], responses: { '200': ok('VehiclePage', 'A page of vehicles.'), ...readErrors } },
    },
    '/vehicles/{vin}': vehicleGet('getVehicle', 'General information on a vehicle.', 'Vehicle'),
    '/vehicles/{vin}/status': vehicleGet('getStatus', 'Last known status: position, range, fuel/charge, ignition, doors.', 'Status'),
    '/vehicles/{vin}/trips': { get: { operationId: 'listTrips', summary: 'Trips whose departure is in [from, to), newest first.', tags: ['vehicles'], parameters: listParams, responses: { '200': ok('TripPage', 'A page of trips.'), ...readErrors, ...notFound } } },
    '/vehicles/{vin}/trips/{tripId}': vehicleGet('getTrip', 'One trip (by its id or the vehicle\'s trip id).', 'Trip', [{ name: 'tripId', in: 'path', required: true, schema: { type: 'string' } }]),
    '/vehicles/{vin}/telemetry': vehicleGet('listSignals', 'Signals with stored samples.', 'SignalList'),
    '/vehicles/{vin}/telemetry/samples': vehicleGet('getSamples', 'Samples of one signal in [from, to), time ascending (default: the last 24 h).', 'SampleSeries', [
      { name: 'signal', in: 'query', required: true, description: 'Signal name, e.g. Vehicle.Speed.', schema: { type: 'string' } },
      param.from,
      param.to,
      { name: 'limit', in: 'query', description: `At most this many samples, 1..${MAX_SAMPLES} (default ${MAX_SAMPLES}); a \`next\` link continues.`, schema: { type: 'integer', minimum: 1, maximum: MAX_SAMPLES } },
      param.skip,
    ]),
    '/vehicles/{vin}/telemetry/track': vehicleGet('getTrack', 'Position track in [from, to) as a GeoJSON FeatureCollection (LineString + Points).', 'Track', [
      param.from,
      param.to,
      { name: 'limit', in: 'query', description: `At most this many positions, 1..${MAX_SAMPLES}.`, schema: { type: 'integer', minimum: 1, maximum: MAX_SAMPLES } },
      param.skip,
    ]),
    '/vehicles/{vin}/alerts': eventList('Alerts', 'Alert history (raised and cleared), newest first.'),
    '/vehicles/{vin}/maintenance': eventList('Maintenance', 'Maintenance notices, newest first.'),
    '/vehicles/{vin}/collisions': eventList('Collisions', 'Collisions with position and pre/post-crash windows, newest first.'),
    '/vehicles/{vin}/remote': {
      get: { operationId: 'listRemoteActions', summary: 'Remote actions sent to the vehicle, newest first.', tags: ['remote'], parameters: listParams, responses: { '200': ok('RemoteActionPage', 'A page of actions.'), ...readErrors, ...notFound } },
      post: {
        operationId: 'createRemoteAction',
        summary: 'Sends a signed remote command; needs the remote scope.',
        tags: ['remote'],
        parameters: [param.vin],
        requestBody: { required: true, content: { 'application/json': { schema: ref('RemoteActionRequest') } } },
        responses: {
          '202': { description: 'Accepted and published; follow `_links.self` for its state.', headers: { Location: { schema: { type: 'string' } } }, content: { [HAL]: { schema: ref('RemoteAction') } } },
          ...readErrors,
          ...notFound,
          '415': problem('The body is not application/json.'),
          '503': problem('The broker is not reachable.'),
        },
      },
    },
    '/vehicles/{vin}/remote/{actionId}': vehicleGet('getRemoteAction', 'One remote action and its state (PENDING → IN_PROGRESS → SUCCEEDED / FAILED / TIMEOUT / REJECTED).', 'RemoteAction', [
      { name: 'actionId', in: 'path', required: true, schema: { type: 'string' } },
    ]),
    '/monitors': {
      get: { operationId: 'listMonitors', summary: 'Geofence monitors of the vehicles visible to the key.', tags: ['monitors'], parameters: [{ name: 'vin', in: 'query', schema: { type: 'string' } }, param.limit, param.cursor], responses: { '200': ok('MonitorPage', 'A page of monitors.'), ...readErrors } },
      post: {
        operationId: 'createMonitor',
        summary: 'Creates a geofence monitor: pushed to the vehicle as a signed rules update (state pending until it acknowledges); needs the remote scope.',
        tags: ['monitors'],
        requestBody: { required: true, content: { 'application/json': { schema: ref('MonitorRequest') } } },
        callbacks: {
          transition: { '{$request.body#/callbackUrl}': { post: { requestBody: { content: { 'application/json': { schema: ref('WebhookPayload') } } }, responses: { '200': { description: 'Any 2xx acknowledges; anything else is retried with backoff.' } } } } },
        },
        responses: { '201': { description: 'Created (with the secret, shown once).', headers: { Location: { schema: { type: 'string' } } }, content: { [HAL]: { schema: ref('Monitor') } } }, ...readErrors, ...notFound, '415': problem('The body is not application/json.'), '503': problem('The broker is not reachable.') },
      },
    },
    '/monitors/{monitorId}': {
      parameters: [{ name: 'monitorId', in: 'path', required: true, schema: { type: 'string' } }],
      get: { operationId: 'getMonitor', summary: 'One monitor.', tags: ['monitors'], responses: { '200': ok('Monitor', 'The monitor.'), ...readErrors, ...notFound } },
      patch: {
        operationId: 'updateMonitor',
        summary: 'Changes the callback URL or the secret; needs the remote scope.',
        tags: ['monitors'],
        requestBody: { required: true, content: { 'application/json': { schema: ref('MonitorUpdate') } } },
        responses: { '200': ok('Monitor', 'The monitor.'), ...readErrors, ...notFound, '415': problem('The body is not application/json.') },
      },
      delete: {
        operationId: 'deleteMonitor',
        summary: 'Deletes the monitor and pushes a rules update removing it from the vehicle; needs the remote scope.',
        tags: ['monitors'],
        responses: { '204': { description: 'Deleted.' }, ...readErrors, ...notFound, '503': problem('The broker is not reachable.') },
      },
    },
    '/monitors/{monitorId}/transitions': {
      get: {
        operationId: 'listMonitorTransitions',
        summary: "The monitor's geofence transitions (events), newest first.",
        tags: ['monitors'],
        parameters: [{ name: 'monitorId', in: 'path', required: true, schema: { type: 'string' } }, param.from, param.to, param.limit, param.cursor],
        responses: { '200': ok('EventPage', 'A page of transitions.'), ...readErrors, ...notFound },
      },
    },
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key token (roadlink backend --create-key).' } },
    schemas,
  },
} as const;
