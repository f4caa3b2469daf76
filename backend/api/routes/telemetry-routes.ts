/** /vehicles/{vin}/telemetry: the signals, a signal's samples, the position track (GeoJSON). */
import type { FastifyInstance } from 'fastify';
import { pathOf, plainQuery, queryOf, requireKnownVehicle, sendHal, vinParam, type ApiContext } from '../api-context.js';
import { vehiclePath, withQuery } from '../hal.js';
import { MAX_SAMPLES } from '../openapi.js';
import { ApiProblem } from '../problem.js';
import { limitParam, requiredString, timeRange } from '../query-params.js';
import { positionFeature, rfc3339 } from '../representations.js';

const DAY_MS = 86_400_000;

/** [from, to): the query's, else the 24 hours before `to` (default now). */
function rangeOf(query: Parameters<typeof timeRange>[0], nowMs: number): { fromMs: number; toMs: number } {
  const range = timeRange(query);
  const toMs = range.toMs ?? (range.fromMs !== undefined ? range.fromMs + DAY_MS : nowMs);
  return { fromMs: range.fromMs ?? toMs - DAY_MS, toMs };
}

export function telemetryRoutes(app: FastifyInstance, context: ApiContext): void {
  const { store } = context;

  app.get('/vehicles/:vin/telemetry', async (request, reply) => {
    const vin = vinParam(request);
    await requireKnownVehicle(context, vin);
    const vehicle = vehiclePath(vin);
    return sendHal(reply, 200, {
      vin,
      signals: await store.signals(vin),
      _links: {
        self: { href: `${vehicle}/telemetry` },
        vehicle: { href: vehicle },
        samples: { href: `${vehicle}/telemetry/samples{?signal,from,to,limit}`, templated: true },
        track: { href: `${vehicle}/telemetry/track{?from,to,limit}`, templated: true },
      },
    });
  });

  app.get('/vehicles/:vin/telemetry/samples', async (request, reply) => {
    const vin = vinParam(request);
    const query = queryOf(request);
    const signal = requiredString(query, 'signal');
    const { fromMs, toMs } = rangeOf(query, context.now());
    const limit = limitParam(query, MAX_SAMPLES, MAX_SAMPLES);
    const series = await store.samples(vin, signal, fromMs, toMs, limit + 1);
    if (!series) {
      await requireKnownVehicle(context, vin);
      throw new ApiProblem(404, `vehicle ${vin} has no samples of signal '${signal}' (GET ${vehiclePath(vin)}/telemetry lists its signals)`, [
        { name: 'signal', in: 'query', reason: 'no such signal for this vehicle' },
      ]);
    }
    const count = Math.min(limit, series.timeMs.length);
    const samples = new Array<{ time: string; value: number }>(count);
    for (let i = 0; i < count; i++) samples[i] = { time: rfc3339(series.timeMs[i]), value: series.value[i] };
    const path = pathOf(request);
    const self = { signal, from: rfc3339(fromMs), to: rfc3339(toMs), limit: plainQuery(request).limit };
    const links: Record<string, { href: string }> = { self: { href: withQuery(path, self) }, vehicle: { href: vehiclePath(vin) } };
    if (series.timeMs.length > limit) links.next = { href: withQuery(path, self, { from: rfc3339(series.timeMs[limit]) }) };
    return sendHal(reply, 200, { vin, signal: series.signal, unit: series.unit, from: rfc3339(fromMs), to: rfc3339(toMs), count, samples, _links: links });
  });

  app.get('/vehicles/:vin/telemetry/track', async (request, reply) => {
    const vin = vinParam(request);
    const query = queryOf(request);
    const { fromMs, toMs } = rangeOf(query, context.now());
    const limit = limitParam(query, MAX_SAMPLES, MAX_SAMPLES);
    await requireKnownVehicle(context, vin);
    const fixes = await store.positions(vin, fromMs, toMs, limit + 1);
    const kept = fixes.slice(0, limit);
    const features =
      kept.length >= 2
        ? [{ type: 'Feature', geometry: { type: 'LineString', coordinates: kept.map((f) => [f.lon, f.lat]) }, properties: { times: kept.map((f) => rfc3339(f.timeMs)) } }]
        : kept.map(positionFeature);
    const path = pathOf(request);
    const self = { from: rfc3339(fromMs), to: rfc3339(toMs), limit: plainQuery(request).limit };
    const links: Record<string, { href: string }> = { self: { href: withQuery(path, self) }, vehicle: { href: vehiclePath(vin) } };
    if (fixes.length > limit) links.next = { href: withQuery(path, self, { from: rfc3339(fixes[limit].timeMs) }) };
    return sendHal(reply, 200, { type: 'FeatureCollection', features, _links: links });
  });
}
