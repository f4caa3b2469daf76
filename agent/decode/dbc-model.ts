/**
 * Links parsed DBC statements into a DbcDatabase: resolves IDs (extended flag, 11-bit overflow),
 * attaches labels, comments, attributes, value types and multiplexing (simple `M`/`mN` and extended
 * SG_MUL_VAL_, following cantools' rules), and reports what real files get wrong as warnings.
 */
import { signalSegments, lastByte, MAX_PAYLOAD_BYTES, type BitSegment } from './bit-layout.js';
import type { ObjectRef, RawMessage, RawSignal, RawStatements } from './dbc-parser.js';
import type { AttributeValue, DbcAttributeDefinition, DbcDatabase, DbcMessage, DbcSignal, DbcWarning } from './dbc-types.js';

const EXTENDED_FLAG = 0x80000000;
const INDEPENDENT_SIGNALS = 'VECTOR__INDEPENDENT_SIG_MSG';

const hex = (n: number) => `0x${n.toString(16).toUpperCase()}`;

interface Linked {
  message: DbcMessage;
  raw: RawMessage;
  signals: Map<string, DbcSignal>;
}

export function buildDatabase(raw: RawStatements, fileName: string, warnings: DbcWarning[]): DbcDatabase {
  const warn = (line: number, reason: string) => warnings.push({ file: fileName, line, reason });
  const db: DbcDatabase = {
    fileName,
    version: raw.version,
    nodes: raw.nodes,
    nodeComments: new Map(),
    messages: [],
    valueTables: raw.valueTables,
    attributeDefinitions: raw.attributeDefinitions,
    attributes: new Map(),
    comment: undefined,
  };

  // Messages by the ID as the DBC writes it; pseudo-message IDs are remembered to ignore references to them.
  const byDbcId = new Map<number, Linked>();
  const ignoredIds = new Set<number>();
  const byFrame = new Map<string, Linked>();
  for (const rawMessage of raw.messages) {
    const message = linkMessage(rawMessage, warn);
    if (!message) {
      ignoredIds.add(rawMessage.dbcId);
      continue;
    }
    const key = `${message.extended ? 'x' : 's'}${message.id}`;
    const previous = byFrame.get(key);
    if (previous) {
      warn(rawMessage.line, `message ${message.name} reuses ID ${hex(message.id)} of ${previous.message.name} (line ${previous.raw.line}); the later definition is used`);
      byDbcId.delete(previous.raw.dbcId);
    }
    const linked: Linked = { message, raw: rawMessage, signals: new Map() };
    byFrame.set(key, linked);
    byDbcId.set(rawMessage.dbcId, linked);
  }

  const findSignal = (keyword: string, dbcId: number, name: string, line: number): DbcSignal | undefined => {
    const linked = findMessage(keyword, dbcId, line);
    if (!linked) return undefined;
    const signal = linked.signals.get(name);
    if (!signal) warn(line, `${keyword} refers to unknown signal ${name} of message ${linked.message.name}`);
    return signal;
  };
  const findMessage = (keyword: string, dbcId: number, line: number): Linked | undefined => {
    const linked = byDbcId.get(dbcId);
    if (!linked && !ignoredIds.has(dbcId)) warn(line, `${keyword} refers to unknown message ${dbcId}`);
    return linked;
  };

  // Signals first (value types decide float vs integer), with labels and value types.
  const valueTypes = new Map<string, { type: number; line: number }>();
  for (const v of raw.valueTypes) valueTypes.set(`${v.dbcId}/${v.signal}`, v);
  for (const linked of byDbcId.values()) {
    for (const rawSignal of linked.raw.signals) {
      const signal = linkSignal(rawSignal, linked.message, valueTypes.get(`${linked.raw.dbcId}/${rawSignal.name}`), warn);
      if (!signal) continue;
      if (linked.signals.has(signal.name)) {
        warn(rawSignal.line, `duplicate signal ${signal.name} in message ${linked.message.name} (ignored)`);
        continue;
      }
      linked.signals.set(signal.name, signal);
      linked.message.signals.push(signal);
    }
  }
  for (const v of raw.valueTypes) findSignal('SIG_VALTYPE_', v.dbcId, v.signal, v.line);
  for (const v of raw.valueDescriptions) {
    const signal = findSignal('VAL_', v.dbcId, v.signal, v.line);
    if (signal && v.labels.size > 0) signal.labels = v.labels;
  }

  for (const c of raw.comments) {
    const target = c.target;
    if (target.kind === 'network') db.comment = c.text;
    else if (target.kind === 'node') db.nodeComments.set(target.name, c.text);
    else if (target.kind === 'message') {
      const linked = findMessage('CM_', target.dbcId, c.line);
      if (linked) linked.message.comment = c.text;
    } else if (target.kind === 'signal') {
      const signal = findSignal('CM_', target.dbcId, target.signal, c.line);
      if (signal) signal.comment = c.text;
    }
  }

  for (const a of raw.attributes) {
    const value = resolveAttribute(raw.attributeDefinitions.get(a.name), a.name, a.value, a.line, warn);
    const target: ObjectRef = a.target;
    if (target.kind === 'network') db.attributes.set(a.name, value);
    else if (target.kind === 'message') findMessage('BA_', target.dbcId, a.line)?.message.attributes.set(a.name, value);
    else if (target.kind === 'signal') findSignal('BA_', target.dbcId, target.signal, a.line)?.attributes.set(a.name, value);
  }

  for (const s of raw.senders) {
    const linked = findMessage('BO_TX_BU_', s.dbcId, s.line);
    if (linked) for (const node of s.nodes) if (!linked.message.senders.includes(node)) linked.message.senders.push(node);
  }

  const multiplexValues = new Map<number, RawStatements['multiplexValues']>();
  for (const m of raw.multiplexValues) {
    if (!findSignal('SG_MUL_VAL_', m.dbcId, m.signal, m.line)) continue;
    const list = multiplexValues.get(m.dbcId) ?? [];
    list.push(m);
    multiplexValues.set(m.dbcId, list);
  }

  for (const linked of byDbcId.values()) {
    resolveMultiplexing(linked, multiplexValues.get(linked.raw.dbcId) ?? [], warn);
    checkLayout(linked.message, warn);
    applyMessageAttributes(linked.message, raw.attributeDefinitions);
    db.messages.push(linked.message);
  }
  return db;
}

function linkMessage(raw: RawMessage, warn: (line: number, reason: string) => void): DbcMessage | undefined {
  if (raw.name === INDEPENDENT_SIGNALS) return undefined;
  let extended = raw.dbcId >= EXTENDED_FLAG;
  let id = extended ? raw.dbcId - EXTENDED_FLAG : raw.dbcId;
  if (id > 0x1fffffff) {
    warn(raw.line, `message ${raw.name}: ID ${hex(id)} exceeds 29 bits (message ignored)`);
    return undefined;
  }
  if (!extended && id > 0x7ff) {
    warn(raw.line, `message ${raw.name}: standard ID ${hex(id)} exceeds 0x7FF without the extended flag (bit 31); read as a 29-bit ID`);
    extended = true;
  }
  let length = raw.length;
  if (length > MAX_PAYLOAD_BYTES) {
    warn(raw.line, `message ${raw.name}: length ${length} exceeds ${MAX_PAYLOAD_BYTES} bytes; read as ${MAX_PAYLOAD_BYTES}`);
    length = MAX_PAYLOAD_BYTES;
  }
  return {
    id,
    extended,
    fd: length > 8,
    name: raw.name,
    length,
    senders: raw.sender && raw.sender !== 'Vector__XXX' ? [raw.sender] : [],
    signals: [],
    comment: undefined,
    cycleTimeMs: undefined,
    attributes: new Map(),
    line: raw.line,
  };
}

function linkSignal(
  raw: RawSignal,
  message: DbcMessage,
  valueType: { type: number; line: number } | undefined,
  warn: (line: number, reason: string) => void,
): DbcSignal | undefined {
  const byteOrder = raw.bigEndian ? 'big_endian' : 'little_endian';
  const segments = signalSegments(raw.startBit, raw.length, byteOrder);
  if (typeof segments === 'string') {
    warn(raw.line, `signal ${raw.name} of message ${message.name}: ${segments} (signal ignored)`);
    return undefined;
  }
  let type: DbcSignal['valueType'] = 'int';
  if (valueType && valueType.type !== 0) {
    const wanted = valueType.type === 1 ? 32 : valueType.type === 2 ? 64 : 0;
    if (wanted === 0) warn(valueType.line, `SIG_VALTYPE_ ${raw.name}: unknown value type ${valueType.type} (read as integer)`);
    else if (raw.length !== wanted) warn(valueType.line, `SIG_VALTYPE_ ${raw.name}: float${wanted} needs ${wanted} bits, the signal has ${raw.length} (read as integer)`);
    else type = wanted === 32 ? 'float32' : 'float64';
  }
  if (lastByte(segments) >= message.length) {
    warn(raw.line, `signal ${raw.name} needs ${lastByte(segments) + 1} bytes but message ${message.name} is ${message.length} bytes long`);
  }
  return {
    name: raw.name,
    startBit: raw.startBit,
    length: raw.length,
    byteOrder,
    signed: raw.signed,
    valueType: type,
    factor: raw.factor,
    offset: raw.offset,
    min: raw.min,
    max: raw.max,
    unit: raw.unit,
    receivers: raw.receivers,
    isMultiplexer: raw.muxIndicator?.endsWith('M') ?? false,
    multiplexerSignal: undefined,
    multiplexerRanges: undefined,
    labels: undefined,
    comment: undefined,
    attributes: new Map(),
    line: raw.line,
  };
}

function resolveAttribute(
  def: DbcAttributeDefinition | undefined,
  name: string,
  value: AttributeValue,
  line: number,
  warn: (line: number, reason: string) => void,
): AttributeValue {
  if (!def) {
    warn(line, `BA_ "${name}": attribute has no BA_DEF_`);
    return value;
  }
  if (def.type === 'ENUM' && typeof value === 'number') {
    const label = def.enumValues?.[value];
    if (label === undefined) warn(line, `BA_ "${name}": enum index ${value} out of range`);
    return label ?? value;
  }
  return value;
}

function applyMessageAttributes(message: DbcMessage, defs: Map<string, DbcAttributeDefinition>): void {
  // Names longer than 32 characters live in these attributes (as cantools reads them).
  const longName = message.attributes.get('SystemMessageLongSymbol');
  if (typeof longName === 'string' && longName) message.name = longName;
  const renamed = new Map<string, string>();
  for (const signal of message.signals) {
    const long = signal.attributes.get('SystemSignalLongSymbol');
    if (typeof long === 'string' && long) {
      renamed.set(signal.name, long);
      signal.name = long;
    }
  }
  if (renamed.size > 0) {
    for (const signal of message.signals) {
      if (signal.multiplexerSignal) signal.multiplexerSignal = renamed.get(signal.multiplexerSignal) ?? signal.multiplexerSignal;
    }
  }
  const cycleDef = defs.get('GenMsgCycleTime');
  if (cycleDef) {
    const cycle = message.attributes.get('GenMsgCycleTime') ?? cycleDef.defaultValue;
    const ms = typeof cycle === 'string' ? Number(cycle) : cycle;
    if (typeof ms === 'number' && ms > 0) message.cycleTimeMs = ms;
  }
  const formatDef = defs.get('VFrameFormat');
  let format = message.attributes.get('VFrameFormat') ?? formatDef?.defaultValue;
  if (typeof format === 'number' && formatDef?.enumValues) format = formatDef.enumValues[format];
  if (typeof format === 'string' && format.endsWith('CAN_FD')) message.fd = true;
}

/**
 * cantools' rules: with exactly one `M` signal, `mN` signals are selected by it (plus SG_MUL_VAL_ ranges
 * naming it); with several (extended multiplexing) each multiplexed signal needs an SG_MUL_VAL_ line.
 */
function resolveMultiplexing(linked: Linked, multiplexValues: RawStatements['multiplexValues'], warn: (line: number, reason: string) => void): void {
  const { message, raw } = linked;
  const indicators = new Map<string, string>();
  for (const r of raw.signals) if (r.muxIndicator) indicators.set(r.name, r.muxIndicator);
  const muxNames = message.signals.filter((s) => s.isMultiplexer).map((s) => s.name);
  const simpleMux = muxNames.length === 1 ? muxNames[0] : undefined;
  const explicit = new Map<string, { multiplexer: string; ranges: [number, number][]; line: number }>();
  for (const m of multiplexValues) {
    if (!indicators.has(m.signal)) {
      warn(m.line, `SG_MUL_VAL_ ignored: signal ${m.signal} of message ${message.name} is not marked as multiplexed (mN)`);
      continue;
    }
    const previous = explicit.get(m.signal);
    if (previous && previous.multiplexer === m.multiplexer) previous.ranges.push(...m.ranges);
    else explicit.set(m.signal, { multiplexer: m.multiplexer, ranges: [...m.ranges], line: m.line });
  }

  for (const signal of message.signals) {
    const indicator = indicators.get(signal.name);
    if (!indicator) continue;
    const byValue = /^m(\d+)/.exec(indicator);
    const ext = explicit.get(signal.name);
    if (simpleMux !== undefined) {
      if (signal.name === simpleMux) continue;
      const ranges: [number, number][] = [];
      if (byValue && !indicator.endsWith('M')) ranges.push([Number(byValue[1]), Number(byValue[1])]);
      if (ext && ext.multiplexer === simpleMux) ranges.push(...ext.ranges);
      signal.multiplexerSignal = simpleMux;
      signal.multiplexerRanges = ranges.length > 0 ? ranges : undefined;
    } else if (ext) {
      signal.multiplexerSignal = ext.multiplexer;
      signal.multiplexerRanges = ext.ranges;
    } else if (byValue) {
      warn(signal.line, `signal ${signal.name} is multiplexed (${indicator}) but message ${message.name} has ${muxNames.length === 0 ? 'no' : 'several'} multiplexer signals and no SG_MUL_VAL_ for it: always decoded`);
    }
  }

  // A signal whose multiplexer is missing (or a multiplexing cycle) can never be selected: drop it.
  const byName = new Map(message.signals.map((s) => [s.name, s]));
  const dropped = new Set<DbcSignal>();
  for (const signal of message.signals) {
    if (signal.multiplexerSignal === undefined) continue;
    const mux = byName.get(signal.multiplexerSignal);
    if (!mux) {
      warn(signal.line, `signal ${signal.name}: multiplexer ${signal.multiplexerSignal} is not a signal of message ${message.name} (signal ignored)`);
      dropped.add(signal);
      continue;
    }
    if (!mux.isMultiplexer) {
      warn(signal.line, `signal ${signal.name}: ${mux.name} selects it (SG_MUL_VAL_) but is not marked as a multiplexer (M); used as one`);
      mux.isMultiplexer = true;
    }
    if (!signal.multiplexerRanges) {
      warn(signal.line, `signal ${signal.name}: no multiplexer value selects it (signal ignored)`);
      dropped.add(signal);
      continue;
    }
    const seen = new Set<DbcSignal>([signal]);
    let up: DbcSignal | undefined = mux;
    while (up) {
      if (seen.has(up)) {
        warn(signal.line, `signal ${signal.name}: multiplexing cycle through ${up.name} (signal ignored)`);
        dropped.add(signal);
        break;
      }
      seen.add(up);
      up = up.multiplexerSignal ? byName.get(up.multiplexerSignal) : undefined;
    }
  }
  if (dropped.size > 0) message.signals = message.signals.filter((s) => !dropped.has(s));
}

/** Multiplexer values along the path from a signal up to the root: mux name -> ranges that select this branch. */
function muxPath(signal: DbcSignal, byName: Map<string, DbcSignal>): Map<string, [number, number][]> {
  const path = new Map<string, [number, number][]>();
  for (let s: DbcSignal | undefined = signal; s?.multiplexerSignal && !path.has(s.multiplexerSignal); s = byName.get(s.multiplexerSignal)) {
    path.set(s.multiplexerSignal, s.multiplexerRanges ?? []);
  }
  return path;
}

function rangesIntersect(a: [number, number][], b: [number, number][]): boolean {
  for (const [alo, ahi] of a) for (const [blo, bhi] of b) if (alo <= bhi && blo <= ahi) return true;
  return false;
}

/** Signals that can be present together must not share bits (real files have such mistakes: warn). */
function checkLayout(message: DbcMessage, warn: (line: number, reason: string) => void): void {
  const signals = message.signals;
  if (signals.length < 2) return;
  const byName = new Map(signals.map((s) => [s.name, s]));
  const segments = signals.map((s) => signalSegments(s.startBit, s.length, s.byteOrder) as BitSegment[]);
  const masks = segments.map(bitMask);
  // Byte span of each signal: most pairs do not share a byte, which this tells without the masks.
  const firstBytes = segments.map((segs) => Math.min(...segs.map((seg) => seg.byte)));
  const lastBytes = segments.map(lastByte);
  const paths = signals.map((s) => muxPath(s, byName));
  for (let j = 1; j < signals.length; j++) {
    const partners: string[] = [];
    let firstByte = -1;
    for (let i = 0; i < j; i++) {
      if (lastBytes[i] < firstBytes[j] || lastBytes[j] < firstBytes[i]) continue;
      const shared = sharedByte(masks[i], masks[j]);
      if (shared < 0 || exclusive(paths[i], paths[j])) continue;
      if (firstByte < 0) firstByte = shared;
      partners.push(signals[i].name);
    }
    if (partners.length === 0) continue;
    const others = partners.length > 1 ? ` (and ${partners.length - 1} more)` : '';
    warn(signals[j].line, `signals ${partners[0]} and ${signals[j].name} of message ${message.name} (${hex(message.id)}) overlap in byte ${firstByte}${others}`);
  }
}

function sharedByte(a: Uint8Array, b: Uint8Array): number {
  for (let k = 0; k < MAX_PAYLOAD_BYTES; k++) if (a[k] & b[k]) return k;
  return -1;
}

/** Two signals exclusive by multiplexing: some common multiplexer selects them with disjoint values. */
function exclusive(a: Map<string, [number, number][]>, b: Map<string, [number, number][]>): boolean {
  for (const [mux, ranges] of a) {
    const other = b.get(mux);
    if (other && !rangesIntersect(ranges, other)) return true;
  }
  return false;
}

function bitMask(segments: BitSegment[]): Uint8Array {
  const mask = new Uint8Array(MAX_PAYLOAD_BYTES);
  for (const s of segments) mask[s.byte] |= ((1 << s.bits) - 1) << s.shift;
  return mask;
}
