/**
 * What the demo prints: a line per event as the backend receiver decodes it, and a summary at the end.
 * It reads the receiver's JSON lines, the same ones `roadlink backend` writes.
 */
import type { ReceiverSummary } from '../../backend/receiver.js';
import type { ApiActionOutcome, ApiReadings } from './demo-api.js';

/** A received JSON message, read field by field. */
type Json = Record<string, any>;

export interface DemoSummaryInput {
  command: ApiActionOutcome;
  framesSent: number;
  wireBytes: number;
  receiver: ReceiverSummary;
}

export class DemoReport {
  readonly messagesByType = new Map<string, number>();
  readonly eventsByKind = new Map<string, number>();
  readonly trips: Json[] = [];
  readonly collisions: Json[] = [];
  samples = 0;
  private readonly commandStates: string[] = [];

  constructor(private readonly print: (line: string) => void) {}

  onLine(line: string): void {
    const message = JSON.parse(line) as Json;
    const type = String(message.type);
    this.messagesByType.set(type, (this.messagesByType.get(type) ?? 0) + 1);
    if (type === 'data') this.samples += Number(message.count ?? 0);
    if (type === 'event') this.onEvent(message);
    if (type === 'error') this.print(`[backend] error: ${message.topic}: ${message.reason}`);
  }

  /** A state of a remote action as the Web API reports it. */
  onActionState(name: string, action: Json): void {
    this.commandStates.push(String(action.state));
    this.print(`[backend] command ${name}: ${action.state}${action.reason ? ` (${action.reason})` : ''}`);
  }

  /** What the Web API answered for a trip, the status and the collision. */
  printApiSummary(url: string, api: ApiReadings): void {
    const { trip, status, collision } = api;
    const at = (p: Json | null | undefined) => (p ? point(p.type === 'Feature' ? p.geometry : p) : 'unknown position');
    this.print(`  web API             ${url}`);
    this.print(`    GET …/trips       ${trip.tripId}: ${round(trip.distanceKm)} km, ${trip.departure.time} at ${at(trip.departure.position)} → ${trip.arrival.time} at ${at(trip.arrival.position)}, ${round(trip.consumption.fuelL)} l`);
    this.print(`    GET …/status      ${status.time}: at ${at(status.position)}, range ${round(status.autonomy.rangeKm)} km, fuel ${round(status.fuel.levelPct)} %, ignition ${status.ignition}, open doors: ${status.openDoors.join(', ') || 'none'}`);
    this.print(`    GET …/collisions  ${collision.time} at ${at(collision.position)}, ${round(collision.detail.speedKmh)} km/h, windows: ${['preWindow', 'postWindow'].filter((w) => collision.detail[w]).join(', ') || 'none'}`);
  }

  printSummary(input: DemoSummaryInput): void {
    const { command, receiver } = input;
    const final = String(command.final.state);
    const streams = Object.values(receiver.vehicles).flatMap((v) => Object.entries(v));
    const gaps = streams.reduce((n, [, s]) => n + s.holes.length, 0);
    const duplicates = streams.reduce((n, [, s]) => n + s.duplicates, 0);
    this.print('');
    this.print('Summary');
    this.print(`  messages received   ${[...this.messagesByType].map(([t, n]) => `${t} ${n}`).join(', ')}`);
    this.print(`  samples             ${this.samples} in ${this.messagesByType.get('data') ?? 0} data messages; ${input.wireBytes} bytes sent to the broker for everything`);
    this.print(`  sequences           ${gaps} gaps, ${duplicates} duplicates (${streams.map(([name, s]) => `${name} ${s.first}..${s.last}`).join(', ')})`);
    this.print(`  events              ${[...this.eventsByKind].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    for (const trip of this.trips) this.print(`  trip                ${describeTrip(trip)}`);
    this.print(`  collisions          ${this.collisions.length} records (notified at once, then with the post-crash window)`);
    this.print(`  remote command      door_lock via POST /vehicles/{vin}/remote: ${this.commandStates.join(' → ') || 'no response'}; ${input.framesSent} frame(s) written to the bus; final ${final}`);
  }

  private onEvent(event: Json): void {
    const kind = Object.keys(event).find((k) => !['vin', 'type', 'time', 'priority', 'seq', 'kind', 'stream'].includes(k)) ?? 'unknown';
    const body = event[kind] as Json;
    const name = kind === 'ruleTrigger' ? String(body.rule) : kind;
    this.eventsByKind.set(name, (this.eventsByKind.get(name) ?? 0) + 1);
    if (kind === 'trip') this.trips.push(body);
    if (kind === 'collision') this.collisions.push(body);
    this.print(`[backend] ${String(event.time).slice(11, 19)} ${describeEvent(kind, body)}`);
  }
}

function describeEvent(kind: string, body: Json): string {
  switch (kind) {
    case 'ignition': return `ignition ${String(body.ignition).replace('IGNITION_', '')}${body.position ? ` at ${point(body.position)}` : ''}`;
    case 'ruleTrigger': return `rule ${body.rule} fired (${Object.entries(body.values ?? {}).map(([k, v]) => `${k.split('.').pop()}=${round(v as number)}`).join(', ')})`;
    case 'geofence': return `geofence ${body.monitorId}: ${body.entered ? 'entered' : 'left'} at ${point(body.position)}`;
    case 'threshold': return `monitor ${body.monitorId}: ${body.signal} ${body.above ? 'above' : 'back below'} its threshold (${round(body.value)})`;
    case 'alert': return `alert ${body.code} ${body.active ? 'raised' : 'cleared'} (${body.severity}): ${body.message}`;
    case 'maintenance': return `maintenance: ${body.daysToService} days, ${round(body.distanceToServiceKm)} km to service${body.thresholdCrossed ? ` (crossed ${body.threshold})` : ''}`;
    case 'collision': return `COLLISION (${body.trigger}) at ${point(body.position)}, ${round(body.speedKmh)} km/h, peak ${round(body.peakAccelG)} g${body.postWindow ? ', with the post-crash window' : ''}`;
    case 'trip': return `trip ended: ${describeTrip(body)}`;
    default: return `${kind} ${JSON.stringify(body)}`;
  }
}

function describeTrip(trip: Json): string {
  const minutes = Math.floor(Number(trip.durationS ?? 0) / 60);
  const seconds = Number(trip.durationS ?? 0) % 60;
  return `${round(trip.distanceKm)} km in ${minutes} min ${seconds} s, max ${round(trip.maxSpeedKmh)} km/h, avg ${round(trip.avgSpeedKmh)} km/h, ${round(trip.fuelUsedL)} l of fuel, from ${String(trip.departureTime ?? '').slice(11, 19)} to ${String(trip.arrivalTime ?? '').slice(11, 19)}`;
}

/** A GeoJSON Point as "lat, lon". */
function point(p: Json | undefined): string {
  const c = p?.coordinates as number[] | undefined;
  return c ? `${c[1].toFixed(5)}, ${c[0].toFixed(5)}` : 'unknown position';
}

function round(v: unknown): string {
  return typeof v === 'number' ? String(Math.round(v * 10) / 10) : String(v ?? '?');
}
