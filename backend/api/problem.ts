/**
 * Errors as RFC 9457 problem documents (application/problem+json). `invalid-params` names each
 * offending parameter, where it was (path, query, body, header) and why, so a client can fix its input.
 */
export interface InvalidParam {
  name: string;
  in: 'path' | 'query' | 'body' | 'header';
  reason: string;
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  'invalid-params'?: InvalidParam[];
}

const TITLES: Record<number, [slug: string, title: string]> = {
  400: ['invalid-request', 'Invalid request'],
  401: ['unauthorized', 'Missing or invalid bearer token'],
  403: ['forbidden', 'Outside the scope of this API key'],
  404: ['not-found', 'Not found'],
  405: ['method-not-allowed', 'Method not allowed'],
  409: ['conflict', 'Conflict'],
  415: ['unsupported-media-type', 'Unsupported media type'],
  500: ['internal-error', 'Internal error'],
  503: ['unavailable', 'Service unavailable'],
};

/** Thrown by route handlers; the server's error handler turns it into the problem document. */
export class ApiProblem extends Error {
  override name = 'ApiProblem';

  constructor(
    readonly status: number,
    detail: string,
    readonly invalidParams: InvalidParam[] = [],
  ) {
    super(detail);
  }

  /** 400 naming one parameter. */
  static invalid(name: string, where: InvalidParam['in'], reason: string): ApiProblem {
    return new ApiProblem(400, `${where} parameter '${name}': ${reason}`, [{ name, in: where, reason }]);
  }

  static notFound(detail: string): ApiProblem {
    return new ApiProblem(404, detail);
  }

  document(instance: string): ProblemDocument {
    const [slug, title] = TITLES[this.status] ?? ['error', 'Error'];
    return {
      type: `/problems/${slug}`,
      title,
      status: this.status,
      detail: this.message,
      instance,
      ...(this.invalidParams.length > 0 ? { 'invalid-params': this.invalidParams } : {}),
    };
  }
}
