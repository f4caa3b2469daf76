/** Reading a JSON request body field by field; each failure is a 400 naming the field (JSON pointer style) and why. */
import type { FastifyRequest } from 'fastify';
import { ApiProblem } from './problem.js';

export type JsonObject = Record<string, unknown>;

const invalid = (name: string, reason: string) => ApiProblem.invalid(name, 'body', reason);

/** The body as an object whose keys are all in `allowed`. */
export function bodyObject(request: FastifyRequest, allowed: readonly string[]): JsonObject {
  const body = request.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('/', 'the body must be a JSON object');
  for (const key of Object.keys(body)) if (!allowed.includes(key)) throw invalid(`/${key}`, `unknown field (allowed: ${allowed.join(', ')})`);
  return body as JsonObject;
}

export function stringField(body: JsonObject, name: string, options: { required?: boolean; pattern?: RegExp; hint?: string; minLength?: number } = {}): string | undefined {
  const value = body[name];
  if (value === undefined) {
    if (options.required) throw invalid(`/${name}`, 'is required');
    return undefined;
  }
  if (typeof value !== 'string') throw invalid(`/${name}`, 'must be a string');
  if (options.minLength !== undefined && value.length < options.minLength) throw invalid(`/${name}`, `must have at least ${options.minLength} characters`);
  if (options.pattern && !options.pattern.test(value)) throw invalid(`/${name}`, options.hint ?? `must match ${options.pattern.source}`);
  return value;
}

export function numberField(body: JsonObject, name: string, min: number, max: number): number | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) throw invalid(`/${name}`, `must be a number from ${min} to ${max}`);
  return value;
}

/** An http(s) URL. */
export function urlField(body: JsonObject, name: string, required: boolean): string | undefined {
  const text = stringField(body, name, { required });
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(`/${name}`, 'is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`/${name}`, 'must be an http or https URL');
  return text;
}

/** A GeoJSON position [lon, lat] at `name`. */
export function lonLat(value: unknown, name: string): [number, number] {
  if (!Array.isArray(value) || value.length < 2 || value.length > 3 || !value.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw invalid(name, 'must be a GeoJSON position [lon, lat]');
  }
  const [lon, lat] = value as number[];
  if (lon < -180 || lon > 180) throw invalid(name, `longitude ${lon} is outside -180..180 (GeoJSON order is [lon, lat])`);
  if (lat < -90 || lat > 90) throw invalid(name, `latitude ${lat} is outside -90..90 (GeoJSON order is [lon, lat])`);
  return [lon, lat];
}
