/** Database rows -> the records of backend-store.ts (numbers from BIGINT, booleans from 0/1, JSON from TEXT). */
import type {
  ApiKeyRecord, CommandRecord, CommandResponseRecord, CommandState, EventKind, EventRecord, MonitorKind, MonitorRecord, MonitorShape,
  MonitorState, PositionFix, RulesAckRecord, TripRecord, VehicleInfo, VehicleStatus, WebhookDelivery, WebhookState,
} from './backend-store.js';

type Row = Record<string, unknown>;

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const json = <T>(v: unknown, fallback: T): T => (typeof v === 'string' && v !== '' ? (JSON.parse(v) as T) : fallback);
const position = (v: unknown): PositionFix | undefined => json<PositionFix | undefined>(v, undefined);

export function vehicleInfo(r: Row): VehicleInfo {
  return {
    vin: str(r.vin), brand: str(r.brand), model: str(r.model), fuelType: str(r.fuel_type), modelYear: num(r.model_year),
    agentVersion: str(r.agent_version), configVersion: str(r.config_version), rulesVersion: num(r.rules_version),
    capabilities: json<string[]>(r.capabilities, []), bootId: str(r.boot_id), signalTable: num(r.signal_table), checkinMs: num(r.checkin_ms),
    firstSeenMs: num(r.first_seen_ms), online: num(r.online) === 1, presenceSinceMs: num(r.presence_since_ms), presenceReason: str(r.presence_reason),
  };
}

export function vehicleStatus(r: Row): VehicleStatus {
  return {
    vin: str(r.vin), timeMs: num(r.time_ms), position: position(r.position), speedKmh: num(r.speed_kmh), fuelLevelPct: num(r.fuel_level_pct),
    batterySocPct: num(r.battery_soc_pct), rangeKm: num(r.range_km), odometerKm: num(r.odometer_km), ignition: str(r.ignition),
    doors: json(r.doors, []), locked: num(r.locked) === 1, receivedMs: num(r.received_ms),
  };
}

export function tripRecord(r: Row): TripRecord {
  return {
    id: num(r.event_id), vin: str(r.vin), tripId: str(r.trip_id), departureMs: num(r.departure_ms), arrivalMs: num(r.arrival_ms),
    departure: position(r.departure), arrival: position(r.arrival), distanceKm: num(r.distance_km), distanceSource: str(r.distance_source),
    durationS: num(r.duration_s), maxSpeedKmh: num(r.max_speed_kmh), avgSpeedKmh: num(r.avg_speed_kmh), fuelUsedL: num(r.fuel_used_l),
    energyUsedKwh: num(r.energy_used_kwh),
  };
}

export function eventRecord(r: Row): EventRecord {
  return {
    id: num(r.id), vin: str(r.vin), kind: str(r.kind) as EventKind, timeMs: num(r.time_ms), priority: str(r.priority), stream: str(r.stream),
    epoch: str(r.epoch), seq: num(r.seq), ...(r.monitor_id ? { monitorId: str(r.monitor_id) } : {}), position: position(r.position),
    detail: json(r.detail, {}), receivedMs: num(r.received_ms),
  };
}

export function commandRecord(r: Row): CommandRecord {
  return {
    id: str(r.id), vin: str(r.vin), action: str(r.action), args: json(r.args, {}), state: str(r.state) as CommandState, reason: str(r.reason),
    detail: str(r.detail), createdMs: num(r.created_ms), updatedMs: num(r.updated_ms), completedMs: num(r.completed_ms),
  };
}

export function commandResponseRecord(r: Row): CommandResponseRecord {
  return { commandId: str(r.command_id), state: str(r.state) as CommandState, reason: str(r.reason), detail: str(r.detail), timeMs: num(r.time_ms), receivedMs: num(r.received_ms) };
}

export function rulesAckRecord(r: Row): RulesAckRecord {
  return { vin: str(r.vin), version: num(r.version), accepted: num(r.accepted) === 1, error: str(r.error), activeVersion: num(r.active_version), receivedMs: num(r.received_ms) };
}

export function monitorRecord(r: Row): MonitorRecord {
  return {
    id: str(r.id), vin: str(r.vin), kind: str(r.kind) as MonitorKind, shape: json<MonitorShape>(r.shape, { ring: [] }), state: str(r.state) as MonitorState,
    error: str(r.error), callbackUrl: str(r.callback_url), secret: str(r.secret), createdMs: num(r.created_ms), updatedMs: num(r.updated_ms),
  };
}

export function apiKeyRecord(r: Row): ApiKeyRecord {
  const vins = json<string[] | null>(r.vins, null);
  return {
    id: str(r.id), name: str(r.name), ...(vins ? { vins } : {}), canRead: num(r.can_read) === 1, canRemote: num(r.can_remote) === 1,
    createdMs: num(r.created_ms), revokedMs: num(r.revoked_ms),
  };
}

export function webhookDelivery(r: Row): WebhookDelivery {
  return {
    id: num(r.id), monitorId: str(r.monitor_id), eventId: num(r.event_id), url: str(r.url), payload: json(r.payload, {}), state: str(r.state) as WebhookState,
    attempts: num(r.attempts), nextAttemptMs: num(r.next_attempt_ms), lastError: str(r.last_error), createdMs: num(r.created_ms), deliveredMs: num(r.delivered_ms),
  };
}
