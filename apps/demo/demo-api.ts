/**
 * The demo's use of the backend's Web API (what any client does with a bearer token): wait until
 * the ingest has stored the drive, read a trip, the status and the collision, and send door_lock
 * through POST /vehicles/{vin}/remote, following its state until it is final.
 */
type Json = Record<string, any>;

export interface ApiActionOutcome {
  id: string;
  /** Every state seen, in order (PENDING, IN_PROGRESS, SUCCEEDED...). */
  states: string[];
  final: Json;
}

export interface ApiReadings {
  trip: Json;
  status: Json;
  collision: Json;
}

const FINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMEOUT', 'REJECTED']);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class DemoApiClient {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: Json }> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Json };
  }

  private async get(path: string): Promise<Json | undefined> {
    const res = await this.request('GET', path);
    return res.status === 200 ? res.body : undefined;
  }

  /** The trip, status and collision once the ingest has stored them (at most `timeoutMs`). */
  async readings(vin: string, timeoutMs = 15_000): Promise<ApiReadings> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const trip = (await this.get(`/vehicles/${vin}/trips?limit=1`))?._embedded.trips[0];
      const collision = (await this.get(`/vehicles/${vin}/collisions?limit=1`))?._embedded.events[0];
      const status = await this.get(`/vehicles/${vin}/status`);
      if (trip && collision && status) return { trip, status, collision };
      if (Date.now() > deadline) throw new Error(`the API has no ${!trip ? 'trip' : !collision ? 'collision' : 'status'} of ${vin} after ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /** POST /vehicles/{vin}/remote, then GET its link until a final state (or `timeoutMs`). */
  async remoteAction(vin: string, action: string, onState: (state: Json) => void, timeoutMs = 30_000): Promise<ApiActionOutcome> {
    const created = await this.request('POST', `/vehicles/${vin}/remote`, { action });
    if (created.status !== 202) throw new Error(`POST /vehicles/${vin}/remote answered ${created.status}: ${created.body.detail ?? ''}`);
    const states = [created.body.state as string];
    onState(created.body);
    const deadline = Date.now() + timeoutMs;
    let current = created.body;
    while (!FINAL.has(current.state) && Date.now() < deadline) {
      await sleep(50);
      const next = await this.get(created.body._links.self.href);
      if (next && next.state !== current.state) {
        states.push(next.state);
        onState(next);
      }
      current = next ?? current;
    }
    return { id: created.body.id, states, final: current };
  }
}
