/**
 * Monitor callbacks: every geofence transition of a monitor (an event whose monitor id it is)
 * becomes one delivery in the store's webhook queue, POSTed as JSON to the monitor's callback URL
 * with `Roadlink-Signature: sha256=<hex HMAC-SHA256 of the body, keyed with the monitor's secret>`.
 * A delivery that fails (network error, timeout, non-2xx) is retried with exponential backoff, up
 * to `maxAttempts`, then marked failed. The queue lives in the store, so deliveries survive restarts.
 */
import { createHmac } from 'node:crypto';
import type { BackendStore, EventRecord, MonitorRecord, WebhookDelivery } from '../db/backend-store.js';
import { geoPoint, rfc3339 } from '../api/representations.js';

export const SIGNATURE_HEADER = 'roadlink-signature';
export const DELIVERY_HEADER = 'roadlink-delivery';

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface WebhookOptions {
  /** First retry after this; doubles each time. Default 2 s. */
  retryBaseMs?: number;
  /** Longest wait between attempts. Default 10 min. */
  maxBackoffMs?: number;
  /** Attempts before giving up. Default 8. */
  maxAttempts?: number;
  /** Per request. Default 10 s. */
  requestTimeoutMs?: number;
  now?: () => number;
  log?: (level: 'info' | 'warn', message: string) => void;
}

export function transitionPayload(monitor: MonitorRecord, event: EventRecord): Record<string, unknown> {
  return {
    monitorId: monitor.id,
    vin: event.vin,
    eventId: String(event.id),
    transition: event.detail.entered === true ? 'entered' : 'left',
    time: rfc3339(event.timeMs),
    position: event.position ? geoPoint(event.position) : null,
  };
}

/** How far back the scan for new transitions looks, before the newest one already queued (late arrivals). */
const RESCAN_MS = 15 * 60_000;

export class WebhookDispatcher {
  private readonly options: Required<WebhookOptions>;
  /** Event ids queued per monitor, and the newest queued event time. */
  private readonly queued = new Map<string, { ids: Set<number>; newestMs: number }>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: BackendStore,
    options: WebhookOptions = {},
  ) {
    this.options = {
      retryBaseMs: 2000,
      maxBackoffMs: 600_000,
      maxAttempts: 8,
      requestTimeoutMs: 10_000,
      now: Date.now,
      log: () => {},
      ...options,
    };
  }

  /** Queues a delivery for each transition not queued yet; returns how many. */
  async discover(): Promise<number> {
    let added = 0;
    let after: string | undefined;
    do {
      const page = await this.store.monitors({ after, limit: 1000 });
      for (const monitor of page.items) added += await this.discoverFor(monitor);
      after = page.next;
    } while (after);
    return added;
  }

  private async discoverFor(monitor: MonitorRecord): Promise<number> {
    const known = await this.queuedOf(monitor.id);
    let added = 0;
    let after: string | undefined;
    do {
      const fromMs = known.newestMs > 0 ? known.newestMs - RESCAN_MS : undefined;
      const page = await this.store.monitorTransitions(monitor.id, { fromMs, after, limit: 1000 });
      for (const event of page.items) {
        if (known.ids.has(event.id) || event.kind !== 'geofence') continue;
        await this.store.enqueueWebhook({ monitorId: monitor.id, eventId: event.id, url: monitor.callbackUrl, payload: transitionPayload(monitor, event), createdMs: this.options.now() });
        known.ids.add(event.id);
        known.newestMs = Math.max(known.newestMs, event.timeMs);
        added++;
      }
      after = page.next;
    } while (after);
    return added;
  }

  private async queuedOf(monitorId: string): Promise<{ ids: Set<number>; newestMs: number }> {
    let known = this.queued.get(monitorId);
    if (known) return known;
    known = { ids: new Set(), newestMs: 0 };
    let after: string | undefined;
    do {
      const page = await this.store.webhookDeliveries(monitorId, { after, limit: 1000 });
      for (const d of page.items) {
        known.ids.add(d.eventId);
        const time = Date.parse(String(d.payload.time));
        if (Number.isFinite(time)) known.newestMs = Math.max(known.newestMs, time);
      }
      after = page.next;
    } while (after);
    this.queued.set(monitorId, known);
    return known;
  }

  /** Attempts every delivery that is due; returns how many were delivered. */
  async deliverDue(): Promise<number> {
    let delivered = 0;
    for (const delivery of await this.store.dueWebhooks(this.options.now(), 100)) {
      if (await this.attempt(delivery)) delivered++;
    }
    return delivered;
  }

  private async attempt(delivery: WebhookDelivery): Promise<boolean> {
    const monitor = await this.store.monitor(delivery.monitorId);
    if (!monitor) {
      await this.store.recordWebhookAttempt(delivery.id, { delivered: false, atMs: this.options.now(), error: 'the monitor was deleted', final: true });
      return false;
    }
    const body = JSON.stringify(delivery.payload);
    let error: string | undefined;
    try {
      const response = await fetch(monitor.callbackUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signBody(monitor.secret, body), [DELIVERY_HEADER]: String(delivery.id) },
        body,
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
        redirect: 'manual',
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.status < 200 || response.status > 299) error = `HTTP ${response.status}`;
    } catch (e) {
      error = (e as Error).message;
    }
    const atMs = this.options.now();
    if (error === undefined) {
      await this.store.recordWebhookAttempt(delivery.id, { delivered: true, atMs });
      return true;
    }
    const attempts = delivery.attempts + 1;
    const final = attempts >= this.options.maxAttempts;
    const waitMs = Math.min(this.options.maxBackoffMs, this.options.retryBaseMs * 2 ** (attempts - 1));
    await this.store.recordWebhookAttempt(delivery.id, { delivered: false, atMs, error, ...(final ? { final: true } : { nextAttemptMs: atMs + waitMs }) });
    this.options.log('warn', `webhook ${delivery.id} for monitor ${delivery.monitorId}: attempt ${attempts} failed (${error})${final ? ', giving up' : `, retry in ${waitMs} ms`}`);
    return false;
  }

  async tick(): Promise<void> {
    await this.discover();
    await this.deliverDue();
  }

  /** Runs tick() every `intervalMs` (never two at once). */
  start(intervalMs = 1000): void {
    const loop = () => {
      this.running = this.tick()
        .catch((e: Error) => this.options.log('warn', `webhook dispatcher: ${e.message}`))
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(loop, intervalMs);
        });
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
