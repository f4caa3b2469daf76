/**
 * Geofence monitors at the edge: each API monitor becomes a geofence of the vehicle's rules, named
 * with the monitor id, installed and removed by signed rules updates (patch) on
 * roadlink/v1/{vin}/rules. A monitor stays `pending` until the vehicle's RulesAck for that version
 * arrives (through ingest into the store): accepted → `active`, refused → `failed` with the
 * vehicle's error. A refusal for a stale version (another tool moved the vehicle's rules on) is
 * retried with a version above the vehicle's.
 *
 * A vehicle that cannot even read an update (bad signature, unknown key) answers version 0: that
 * refusal fails every update sent to it before it arrived.
 *
 * The versions in flight are kept in memory; after a restart, pending monitors are pushed again
 * (resumePending) with a new version.
 */
import type { BackendStore, MonitorRecord } from '../db/backend-store.js';
import { signRulesUpdate, type SigningKey } from '../command-client.js';
import type { VehiclePublisher } from './vehicle-publisher.js';

interface InFlight {
  monitorId: string;
  op: 'install' | 'remove';
  attempts: number;
  sentMs?: number;
}

const MAX_ATTEMPTS = 3;

/** The geofence as the vehicle's configuration writes it (agent/config/sections/monitors.ts). */
export function geofenceRule(monitor: MonitorRecord): Record<string, unknown> {
  const base = { name: monitor.id };
  if ('center' in monitor.shape) {
    const [lon, lat] = monitor.shape.center;
    return { ...base, shape: 'circle', center: { lat, lon }, radius_m: monitor.shape.radiusM };
  }
  const ring = monitor.shape.ring;
  const open = ring.length > 1 && ring[0][0] === ring.at(-1)![0] && ring[0][1] === ring.at(-1)![1] ? ring.slice(0, -1) : ring;
  return { ...base, shape: 'polygon', points: open.map(([lon, lat]) => ({ lat, lon })) };
}

export class MonitorRules {
  private readonly inFlight = new Map<string, Map<number, InFlight>>();
  private readonly lastVersion = new Map<string, number>();

  constructor(
    private readonly store: BackendStore,
    private readonly publisher: VehiclePublisher,
    private readonly key: SigningKey,
    private readonly now: () => number = Date.now,
  ) {}

  install(monitor: MonitorRecord, attempts = 1): Promise<number> {
    return this.push(monitor.vin, { monitorId: monitor.id, op: 'install', attempts }, { rulesJson: JSON.stringify({ monitors: { geofences: [geofenceRule(monitor)] } }) });
  }

  remove(monitor: Pick<MonitorRecord, 'id' | 'vin'>, attempts = 1): Promise<number> {
    return this.push(monitor.vin, { monitorId: monitor.id, op: 'remove', attempts }, { rulesJson: '{}', remove: [monitor.id] });
  }

  /** Pushes pending monitors again (after a restart the versions in flight are unknown). */
  async resumePending(): Promise<void> {
    let after: string | undefined;
    do {
      const page = await this.store.monitors({ after, limit: 1000 });
      for (const m of page.items) if (m.state === 'pending') await this.install(m);
      after = page.next;
    } while (after);
  }

  /** Updates monitors from the acks received so far; returns how many updates got their answer. */
  async poll(): Promise<number> {
    let answered = 0;
    for (const [vin, flights] of this.inFlight) {
      if (flights.size === 0) continue;
      const acks = await this.store.rulesAcks(vin);
      for (const ack of acks) {
        const versions = ack.version === 0 && !ack.accepted ? [...flights].filter(([, f]) => (f.sentMs ?? 0) <= ack.receivedMs).map(([v]) => v) : [ack.version];
        for (const version of versions) {
          const flight = flights.get(version);
          if (!flight) continue;
          flights.delete(version);
          answered++;
          await this.settle(vin, flight, ack.accepted, ack.error, ack.activeVersion);
        }
      }
    }
    return answered;
  }

  private async settle(vin: string, flight: InFlight, accepted: boolean, error: string, activeVersion: number): Promise<void> {
    const monitor = await this.store.monitor(flight.monitorId);
    if (!accepted && error.startsWith('stale_version') && flight.attempts < MAX_ATTEMPTS) {
      this.lastVersion.set(vin, Math.max(this.lastVersion.get(vin) ?? 0, activeVersion));
      if (flight.op === 'install' && monitor) await this.install(monitor, flight.attempts + 1);
      if (flight.op === 'remove') await this.remove({ id: flight.monitorId, vin }, flight.attempts + 1);
      return;
    }
    if (flight.op === 'install' && monitor) {
      await this.store.updateMonitor(monitor.id, { state: accepted ? 'active' : 'failed', error: accepted ? '' : error, updatedMs: this.now() });
    }
  }

  private async push(vin: string, flight: InFlight, body: { rulesJson: string; remove?: string[] }): Promise<number> {
    const version = await this.nextVersion(vin);
    const bytes = signRulesUpdate({ version, patch: true, vin, issuedAtMs: this.now(), ...body }, this.key);
    let flights = this.inFlight.get(vin);
    if (!flights) this.inFlight.set(vin, (flights = new Map()));
    flights.set(version, { ...flight, sentMs: this.now() });
    try {
      await this.publisher.publish(vin, 'rules', bytes);
    } catch (error) {
      flights.delete(version);
      throw error;
    }
    return version;
  }

  /** Above everything the vehicle reported (checkin, acks) and everything sent from here. */
  private async nextVersion(vin: string): Promise<number> {
    const [vehicle, acks] = await Promise.all([this.store.vehicle(vin), this.store.rulesAcks(vin)]);
    let version = Math.max(this.lastVersion.get(vin) ?? 0, vehicle?.rulesVersion ?? 0);
    for (const ack of acks) version = Math.max(version, ack.version, ack.activeVersion);
    this.lastVersion.set(vin, version + 1);
    return version + 1;
  }
}
