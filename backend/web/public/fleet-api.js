// The public Web API (GET /openapi.json describes it), with the page's bearer key. Follows HAL
// `next` links for lists; errors carry the API's problem document (RFC 9457).
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export class FleetApi {
  constructor(key) {
    this.key = key;
  }

  async request(method, path, body) {
    const headers = { authorization: `Bearer ${this.key}`, accept: 'application/hal+json, application/problem+json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    const json = text ? JSON.parse(text) : null;
    if (!response.ok) throw new ApiError(response.status, json);
    return json;
  }

  get(path) {
    return this.request('GET', path);
  }

  post(path, body) {
    return this.request('POST', path, body);
  }

  delete(path) {
    return this.request('DELETE', path);
  }

  /** Every item of a HAL list (`_embedded[rel]`), following `next` up to `maxPages` pages. */
  async all(path, rel, maxPages = 20) {
    const items = [];
    let next = path;
    for (let page = 0; next && page < maxPages; page++) {
      const body = await this.get(next);
      items.push(...body._embedded[rel]);
      next = body._links.next?.href;
    }
    return items;
  }
}
