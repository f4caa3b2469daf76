/**
 * The backend as one service (what `roadlink backend` runs): the store (SQLite file or PostgreSQL),
 * the ingest worker writing every vehicle's uploads into it, the Web API, and — with a broker and
 * a signing key — remote actions, monitors (rules updates and their acks) and the webhook
 * dispatcher. Everything stops cleanly with stop().
 */
import type { FastifyInstance } from 'fastify';
import type { BrokerOptions } from '../../wire/broker-options.js';
import type { SigningKey } from '../command-client.js';
import { openStore } from '../db/open-store.js';
import type { SqlBackendStore } from '../db/sql-backend-store.js';
import { IngestWorker } from '../ingest/ingest-worker.js';
import { MonitorRules } from '../remote/monitor-rules.js';
import { RemoteControl } from '../remote/remote-control.js';
import { MqttVehiclePublisher } from '../remote/vehicle-publisher.js';
import { WebhookDispatcher, type WebhookOptions } from '../webhooks/webhook-dispatcher.js';
import { createApiServer } from './server.js';
import type { Logger } from '../../wire/log.js';
import { fleetPageRoutes } from '../web/fleet-page-server.js';


export interface BackendServiceOptions {
  /** postgres://... or a SQLite file path. */
  db: string;
  /** Without a broker: the API over what the database holds (no ingest, remote actions or monitors). */
  broker?: BrokerOptions;
  /** Without a key: no remote actions or monitors (503). */
  key?: SigningKey;
  host: string;
  /** 0: any free port. */
  port: number;
  /** Base of the ingest worker's client ids (persistent sessions). Default roadlink-backend-ingest. */
  ingestClientId?: string;
  ingestConnections?: number;
  webhooks?: WebhookOptions;
  /** How often rules acks and webhooks are looked at. Default 500 ms. */
  pollIntervalMs?: number;
  log?: Logger;
}

export class BackendService {
  private pollTimer: NodeJS.Timeout | undefined;
  private polling: Promise<unknown> | undefined;

  private constructor(
    readonly store: SqlBackendStore,
    readonly api: FastifyInstance,
    readonly url: string,
    private readonly ingest: IngestWorker | undefined,
    private readonly publisher: MqttVehiclePublisher | undefined,
    private readonly monitorRules: MonitorRules | undefined,
    private readonly webhooks: WebhookDispatcher,
  ) {}

  static async start(options: BackendServiceOptions): Promise<BackendService> {
    const log = options.log ?? (() => {});
    const store = await openStore(options.db);
    const cleanup: (() => Promise<unknown>)[] = [() => store.close()];
    try {
      let ingest: IngestWorker | undefined;
      let publisher: MqttVehiclePublisher | undefined;
      let remote: RemoteControl | undefined;
      let monitorRules: MonitorRules | undefined;
      if (options.broker) {
        ingest = new IngestWorker({
          broker: options.broker,
          store,
          clientId: options.ingestClientId ?? 'roadlink-backend-ingest',
          connections: options.ingestConnections,
          log,
        });
        cleanup.unshift(() => ingest!.stop());
        await ingest.start();
        if (options.key) {
          publisher = new MqttVehiclePublisher(options.broker);
          cleanup.unshift(() => publisher!.close());
          remote = new RemoteControl(store, publisher, options.key);
          monitorRules = new MonitorRules(store, publisher, options.key);
          await monitorRules.resumePending();
        }
      }
      const api = createApiServer({ store, remote, monitorRules }, { onError: (error) => log('error', `api: ${error.stack ?? error.message}`) });
      fleetPageRoutes(api);
      cleanup.unshift(() => api.close());
      const address = await api.listen({ host: options.host, port: options.port });
      const webhooks = new WebhookDispatcher(store, { log, ...options.webhooks });
      const service = new BackendService(store, api, address.replace('[::1]', 'localhost'), ingest, publisher, monitorRules, webhooks);
      service.startPolling(options.pollIntervalMs ?? 500, log);
      return service;
    } catch (error) {
      for (const step of cleanup) await step().catch(() => undefined);
      throw error;
    }
  }

  private startPolling(intervalMs: number, log: Logger): void {
    this.webhooks.start(intervalMs);
    if (!this.monitorRules) return;
    const rules = this.monitorRules;
    const loop = () => {
      this.polling = rules
        .poll()
        .catch((e: Error) => log('warn', `monitor rules: ${e.message}`))
        .finally(() => {
          if (this.pollTimer !== undefined) this.pollTimer = setTimeout(loop, intervalMs);
        });
    };
    this.pollTimer = setTimeout(loop, intervalMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    await this.polling;
    await this.webhooks.stop();
    await this.api.close();
    await this.ingest?.stop();
    await this.publisher?.close();
    await this.store.close();
  }
}
