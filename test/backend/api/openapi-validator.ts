/**
 * Validates API responses against the OpenAPI document (backend/api/openapi.ts): finds the
 * operation by method and path template, the response by status, the schema by media type, and
 * checks the body with ajv (JSON Schema 2020-12, formats such as date-time). An undocumented path,
 * status or media type is a failure too.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { openApiDocument } from '../../../backend/api/openapi.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(JSON.parse(JSON.stringify(openApiDocument)) as object, 'openapi.json');

type Operation = { responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> };
const paths = openApiDocument.paths as unknown as Record<string, Record<string, Operation>>;

const templates = Object.keys(paths).map((template) => ({
  template,
  regex: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));

const compiled = new Map<string, ValidateFunction>();

export interface ApiResponse {
  method: string;
  url: string;
  status: number;
  contentType: string | undefined;
  body: string;
}

/** Throws with the ajv errors when the response does not match the document. Returns the parsed body. */
export function validateResponse(response: ApiResponse): unknown {
  const path = response.url.split('?')[0];
  const match = templates.find((t) => t.regex.test(path));
  if (!match) throw new Error(`${path} is not in the OpenAPI document`);
  const operation = paths[match.template][response.method.toLowerCase()];
  if (!operation) throw new Error(`${response.method} ${match.template} is not in the OpenAPI document`);
  const documented = operation.responses[String(response.status)];
  if (!documented) throw new Error(`${response.method} ${match.template}: status ${response.status} is not documented (body ${response.body.slice(0, 300)})`);
  if (!documented.content) {
    if (response.body !== '') throw new Error(`${response.method} ${match.template} ${response.status}: documented without a body, got ${response.body.slice(0, 200)}`);
    return undefined;
  }
  const mediaType = (response.contentType ?? '').split(';')[0].trim();
  const content = documented.content[mediaType];
  if (!content) throw new Error(`${response.method} ${match.template} ${response.status}: media type '${mediaType}' is not documented (${Object.keys(documented.content).join(', ')})`);
  const key = `${match.template} ${response.method} ${response.status} ${mediaType}`;
  let validate = compiled.get(key);
  if (!validate) {
    const pointer = `/paths/${match.template.replace(/~/g, '~0').replace(/\//g, '~1')}/${response.method.toLowerCase()}/responses/${response.status}/content/${mediaType.replace(/\//g, '~1')}/schema`;
    validate = ajv.compile({ $ref: `openapi.json#${encodeURI(pointer).replace(/#/g, '%23')}` });
    compiled.set(key, validate);
  }
  const body = JSON.parse(response.body) as unknown;
  if (!validate(body)) {
    throw new Error(`${response.method} ${response.url} ${response.status} does not match the OpenAPI document: ${ajv.errorsText(validate.errors, { separator: '\n' })}\n${response.body.slice(0, 500)}`);
  }
  return body;
}
