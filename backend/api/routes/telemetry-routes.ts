/** /vehicles/{vin}/telemetry: the signals, a signal's samples, the position track (GeoJSON). */
import type { FastifyInstance } from 'fastify';
import { pathOf, plainQuery, queryOf, requireKnownVehicle, sendHal, vinParam, type ApiContext } from '../api-context.js';
import { vehiclePath, withQuery } from '../hal.js';
import { MAX_SAMPLES } from '../openapi.js';
import { ApiProblem } from '../problem.js';
import { limitParam, requiredString, skipParam, timeRange } from '../query-params.js';
import { positionFeature, rfc3339 } from '../representations.js';

const DAY_MS = 86_400_000;

/** [from, to): the query's, else the 24 hours before `to` (default now). */
function rangeOf(query: Parameters<typeof timeRange>[0], nowMs: number): { fromMs: number; toMs: number } {
  const range = timeRange(query);
  const toMs = range.toMs ?? (range.fromMs !== undefined ? range.fromMs + DAY_MS : nowMs);
  return { fromMs: range.fromMs ?? toMs - DAY_MS, toMs };
}

/**
 * One page of a time-ascending series read from `from` (at most skip + limit + 1 items): the first
 * `skip` items (at `from`, already on the previous page) are passed over and `limit` kept. The next
 * page starts at the time of the first item left out and passes over the kept items of that same
 * millisecond: one signal can have several samples at one time (two rules, an event window), so a
 * time alone is not a cursor.
 */
export function timePage<T>(items: readonly T[], timeMs: (item: T) => number, skip: number, limit: number): { kept: T[]; next?: { fromMs: number; skip: number } } {
  const kept = items.slice(skip, skip + limit);
  if (items.length <= skip + limit) return { kept };
  const nextMs = Math.floor(timeMs(items[skip + limit]));
  let same = 0;
  for (let i = skip + limit - 1; i >= 0 && Math.floor(timeMs(items[i])) === nextMs; i--) same++;
  return { kept, next: { fromMs: nextMs, skip: same } };
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
        samples: { href: `${vehicle}/telemetry/samples{?signal,from,to,limit,skip}`, templated: true },
        track: { href: `${vehicle}/telemetry/track{?from,to,limit,skip}`, templated: true },
      },
    });
  });

  app.get('/vehicles/:vin/telemetry/samples', async (request, reply) => {
    const vin = vinParam(request);
    const query = queryOf(request);
    const signal = requiredString(query, 'signal');
    const { fromMs, toMs } = rangeOf(query, context.now());
    const limit = limitParam(query, MAX_SAMPLES, MAX_SAMPLES);
    const skip = skipParam(query, MAX_SAMPLES);
    const series = await store.samples(vin, signal, fromMs, toMs, skip + limit + 1);
    if (!series) {
      await requireKnownVehicle(context, vin);
      throw new ApiProblem(404, `vehicle ${vin} has no samples of signal '${signal}' (GET ${vehiclePath(vin)}/telemetry lists its signals)`, [
        { name: 'signal', in: 'query', reason: 'no such signal for this vehicle' },
      ]);
    }
    const indexes = Array.from(series.timeMs.keys());
    const page = timePage(indexes, (i) => series.timeMs[i], skip, limit);
    const samples = page.kept.map((i) => ({ time: rfc3339(series.timeMs[i]), value: series.value[i] }));
    const path = pathOf(request);
    const self = { signal, from: rfc3339(fromMs), to: rfc3339(toMs), limit: plainQuery(request).limit, skip: plainQuery(request).skip };
    const links: Record<string, { href: string }> = { self: { href: withQuery(path, self) }, vehicle: { href: vehiclePath(vin) } };
    if (page.next) links.next = { href: withQuery(path, self, { from: rfc3339(page.next.fromMs), skip: page.next.skip > 0 ? String(page.next.skip) : undefined }) };
    return sendHal(reply, 200, { vin, signal: series.signal, unit: series.unit, from: rfc3339(fromMs), to: rfc3339(toMs), count: samples.length, samples, _links: links });
  });

  app.get('/vehicles/:vin/telemetry/track', async (request, reply) => {
    const vin = vinParam(request);
    const query = queryOf(request);
    const { fromMs, toMs } = rangeOf(query, context.now());
    const limit = limitParam(query, MAX_SAMPLES, MAX_SAMPLES);
    const skip = skipParam(query, MAX_SAMPLES);
    await requireKnownVehicle(context, vin);
    const fixes = await store.positions(vin, fromMs, toMs, skip + limit + 1);
    const { kept, next } = timePage(fixes, (f) => f.timeMs, skip, limit);
    const features =
      kept.length >= 2
        ? [{ type: 'Feature', geometry: { type: 'LineString', coordinates: kept.map((f) => [f.lon, f.lat]) }, properties: { times: kept.map((f) => rfc3339(f.timeMs)) } }]
        : kept.map(positionFeature);
    const path = pathOf(request);
    const self = { from: rfc3339(fromMs), to: rfc3339(toMs), limit: plainQuery(request).limit, skip: plainQuery(request).skip };
    const links: Record<string, { href: string }> = { self: { href: withQuery(path, self) }, vehicle: { href: vehiclePath(vin) } };
    if (next) links.next = { href: withQuery(path, self, { from: rfc3339(next.fromMs), skip: next.skip > 0 ? String(next.skip) : undefined }) };
    return sendHal(reply, 200, { type: 'FeatureCollection', features, _links: links });
  });
}
