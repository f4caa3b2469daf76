/**
 * MQTT topics of one vehicle: `roadlink/v1/{vin}/{kind}`. The `v1` level is the protobuf package
 * version of the payloads (proto/README.md); a v2 would live side by side under `roadlink/v2/`.
 */
export const TOPIC_ROOT = 'roadlink/v1';

/** Vehicle -> backend. */
export const UP_KINDS = ['checkin', 'data', 'events', 'status', 'cmd/res', 'rules/ack', 'online'] as const;
/** Backend -> vehicle. */
export const DOWN_KINDS = ['cmd/req', 'rules'] as const;

export type UpKind = (typeof UP_KINDS)[number];
export type DownKind = (typeof DOWN_KINDS)[number];
export type TopicKind = UpKind | DownKind;

const ALL_KINDS: readonly string[] = [...UP_KINDS, ...DOWN_KINDS];

/** The topic of `kind` for vehicle `vin`. */
export function topicFor(vin: string, kind: TopicKind): string {
  return `${TOPIC_ROOT}/${vin}/${kind}`;
}

/** Every topic of one vehicle, by kind. */
export function vehicleTopics(vin: string): Record<TopicKind, string> {
  const out = {} as Record<TopicKind, string>;
  for (const kind of ALL_KINDS as TopicKind[]) out[kind] = topicFor(vin, kind);
  return out;
}

/** `roadlink/v1/{vin}/{kind}` -> { vin, kind }, or undefined for any other topic. */
export function parseTopic(topic: string): { vin: string; kind: TopicKind } | undefined {
  if (!topic.startsWith(`${TOPIC_ROOT}/`)) return undefined;
  const rest = topic.slice(TOPIC_ROOT.length + 1);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const kind = rest.slice(slash + 1);
  return ALL_KINDS.includes(kind) ? { vin: rest.slice(0, slash), kind: kind as TopicKind } : undefined;
}

/** A VIN usable as one topic level and client id: no MQTT wildcards, separators or control characters. */
export function checkVin(vin: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(vin)) {
    throw new Error(`VIN ${JSON.stringify(vin)} must be 1-64 characters of A-Z, a-z, 0-9, "_" or "-" (it becomes an MQTT topic level and client id)`);
  }
  return vin;
}

/** A filter matching `kind` for every vehicle, optionally as an MQTT 5 shared subscription of `group`. */
export function allVehiclesFilter(kind: UpKind, group?: string): string {
  const filter = `${TOPIC_ROOT}/+/${kind}`;
  return group ? `$share/${group}/${filter}` : filter;
}
