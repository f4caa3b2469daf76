/**
 * The decode hot path: FrameBatch in, SampleBatch out. Each message of the bound DBC databases is
 * compiled once into a specialised function (decode-codegen.ts); per frame the decoder looks the
 * message up (dense table for 11-bit IDs, Map for 29-bit), calls its function and stamps time and
 * frame index on the samples. Nothing is allocated per frame.
 */
import { FRAME_STRIDE, FrameFlag, type FrameBatch } from '../../drivers/can/frame-batch.js';
import { compileMessageDecoder, isWideInteger, type MessageDecodeFn } from './decode-codegen.js';
import type { DbcDatabase, DbcMessage, DbcSignal } from './dbc-types.js';
import { HISTORY_SLOTS, PayloadHistory, payloadHash } from './payload-history.js';
import { growSampleBatch, type SampleBatch } from './sample-batch.js';

/** Which databases decode which bus; bus '*' applies to every bus (after the bus's own bindings). */
export interface DecoderBinding {
  bus: string;
  databases: DbcDatabase[];
}

export interface MessageInfo {
  /** Index in Decoder.messages (what frameMessage holds). */
  index: number;
  /** Bus of the binding ('*' = any bus). */
  bus: string;
  id: number;
  extended: boolean;
  name: string;
  /** Length the DBC declares, in bytes. */
  length: number;
  /** Global index of the message's first signal; its signals are contiguous. */
  firstSignal: number;
  signalCount: number;
  cycleTimeMs: number | undefined;
  message: DbcMessage;
  database: DbcDatabase;
}

export interface SignalInfo {
  /** Global signal index (what SampleBatch.signal holds). */
  index: number;
  bus: string;
  messageIndex: number;
  messageId: number;
  extended: boolean;
  messageName: string;
  name: string;
  unit: string;
  factor: number;
  offset: number;
  min: number | undefined;
  max: number | undefined;
  labels: Map<number, string> | undefined;
  isFloat: boolean;
  /** Integer signal with integer factor and offset: cantools yields Python ints (JSON `1`, not `1.0`). */
  integerValued: boolean;
  /** Integer of more than 53 bits with factor 1 and offset 0: exact value in SampleBatch.wide. */
  wide: boolean;
  multiplexed: boolean;
  signal: DbcSignal;
}

/** Bits of Decoder.frameStatus. */
export const FrameStatus = {
  /** Payload shorter than the DBC length: only the signals that fit were decoded. */
  SHORT: 1,
  /**
   * Only with `repeats: 'mark'`: the same payload as one of the message's recent frames (the one in
   * history slot frameSlot[i]), so the same values; no samples were produced for it (the stats count
   * them as if they had been).
   */
  REPEAT: 2,
} as const;
// The hot loop uses plain constants: a property read it first meets late would cost a deoptimisation.
const STATUS_SHORT = FrameStatus.SHORT;
const STATUS_REPEAT = FrameStatus.REPEAT;

export interface DecoderStats {
  /** Frames seen by decode(). */
  frames: number;
  /** Frames whose message is known (decoded, possibly short). */
  decoded: number;
  /** Frames whose ID no bound DBC defines. */
  unknownId: number;
  /** Decoded frames with a payload shorter than the DBC length. */
  short: number;
  /** Remote (RTR) and error frames: no payload to decode. */
  skipped: number;
  /** Samples produced. */
  samples: number;
}

interface IdTable {
  standard: Int32Array;
  extended: Map<number, number>;
}

export class Decoder {
  readonly messages: MessageInfo[] = [];
  readonly signals: SignalInfo[] = [];
  readonly stats: DecoderStats = { frames: 0, decoded: 0, unknownId: 0, short: 0, skipped: 0, samples: 0 };
  /** Per frame of the last decoded batch: message index, or -1 (unknown ID, RTR, error frame). */
  frameMessage = new Int32Array(0);
  /** Per frame of the last decoded batch: FrameStatus bits. */
  frameStatus = new Uint8Array(0);
  /**
   * Only with `repeats: 'mark'`, per decoded frame of the last batch: the slot of its message's
   * payload history (payload-history.ts) that holds its payload: the one it repeats (REPEAT), or
   * the one it was kept in.
   */
  frameSlot = new Int8Array(0);

  private readonly decoders: MessageDecodeFn[] = [];
  private readonly lengths: number[] = [];
  private readonly tablesByBus = new Map<string, IdTable>();
  private readonly anyBus: IdTable;
  private readonly bindings: DecoderBinding[];
  /** FrameBatch bus index -> table, for the busNames array last seen. */
  private busTables: IdTable[] = [];
  private busNamesSeen: string[] | undefined;
  private busCountSeen = -1;

  private readonly compileOnFirstFrame: boolean;
  /** With `repeats: 'mark'`: each message's recent payloads. */
  private readonly history: PayloadHistory | undefined;

  /**
   * `compile: 'first-frame'` compiles a message's decode function when a frame of it first arrives
   * (a one-shot command decoding a log that uses a few of the DBC's messages starts sooner); the
   * default compiles every message here, so a running agent pays nothing later.
   *
   * `repeats: 'mark'` is for a consumer that keeps what it made of each message's recent frames
   * (the decode CLI keeps their text): a frame that repeats the payload of one of them is marked
   * FrameStatus.REPEAT instead of decoded. Real logs repeat a lot (62 % of the Kona log's frames).
   */
  constructor(bindings: DecoderBinding[], options: { compile?: 'eager' | 'first-frame'; repeats?: 'decode' | 'mark' } = {}) {
    this.bindings = bindings;
    this.compileOnFirstFrame = options.compile === 'first-frame';
    // Compile every message once, whichever bus uses it.
    for (const binding of bindings) {
      for (const database of binding.databases) {
        for (const message of database.messages) this.addMessage(binding.bus, database, message);
      }
    }
    this.anyBus = this.buildTable('*');
    if (options.repeats === 'mark') this.history = new PayloadHistory(this.messages.length);
  }

  private addMessage(bus: string, database: DbcDatabase, message: DbcMessage): void {
    const index = this.messages.length;
    const firstSignal = this.signals.length;
    this.messages.push({
      index,
      bus,
      id: message.id,
      extended: message.extended,
      name: message.name,
      length: message.length,
      firstSignal,
      signalCount: message.signals.length,
      cycleTimeMs: message.cycleTimeMs,
      message,
      database,
    });
    for (const signal of message.signals) {
      this.signals.push({
        index: this.signals.length,
        bus,
        messageIndex: index,
        messageId: message.id,
        extended: message.extended,
        messageName: message.name,
        name: signal.name,
        unit: signal.unit,
        factor: signal.factor,
        offset: signal.offset,
        min: signal.min,
        max: signal.max,
        labels: signal.labels,
        isFloat: signal.valueType !== 'int',
        integerValued: signal.valueType === 'int' && Number.isInteger(signal.factor) && Number.isInteger(signal.offset),
        wide: isWideInteger(signal),
        multiplexed: signal.multiplexerSignal !== undefined,
        signal,
      });
    }
    this.decoders.push(this.compileOnFirstFrame ? this.compileLater(index) : compileMessageDecoder(message, firstSignal));
    this.lengths.push(message.length);
  }

  /** A stand-in that compiles message `index`'s decode function, puts it in its place and runs it. */
  private compileLater(index: number): MessageDecodeFn {
    return (d, o, n, S, V, k, W) => {
      const info = this.messages[index];
      const decode = compileMessageDecoder(info.message, info.firstSignal);
      this.decoders[index] = decode;
      return decode(d, o, n, S, V, k, W);
    };
  }

  /** ID table of a bus: its own bindings first, then the '*' bindings; within those, first definition wins. */
  private buildTable(bus: string): IdTable {
    const table: IdTable = { standard: new Int32Array(0x800).fill(-1), extended: new Map() };
    const order = bus === '*' ? ['*'] : [bus, '*'];
    for (const wanted of order) {
      for (const info of this.messages) {
        if (info.bus !== wanted) continue;
        if (info.extended) {
          if (!table.extended.has(info.id)) table.extended.set(info.id, info.index);
        } else if (table.standard[info.id] < 0) {
          table.standard[info.id] = info.index;
        }
      }
    }
    return table;
  }

  private tableFor(bus: string): IdTable {
    if (!this.bindings.some((b) => b.bus === bus)) return this.anyBus;
    let table = this.tablesByBus.get(bus);
    if (!table) {
      table = this.buildTable(bus);
      this.tablesByBus.set(bus, table);
    }
    return table;
  }

  /** The message a frame would decode as, or undefined (not for the hot path). */
  messageFor(bus: string, id: number, extended: boolean): MessageInfo | undefined {
    const table = this.tableFor(bus);
    const index = extended ? table.extended.get(id) : id < 0x800 ? table.standard[id] : -1;
    return index !== undefined && index >= 0 ? this.messages[index] : undefined;
  }

  /** IDs the decoder knows on a bus (for SocketCAN kernel filters). */
  filterIds(bus: string): { id: number; extended: boolean }[] {
    const table = this.tableFor(bus);
    const ids: { id: number; extended: boolean }[] = [];
    for (let id = 0; id < 0x800; id++) if (table.standard[id] >= 0) ids.push({ id, extended: false });
    for (const id of [...table.extended.keys()].sort((a, b) => a - b)) ids.push({ id, extended: true });
    return ids;
  }

  /** VAL_ label of a decoded value (raw = (value - offset) / factor, rounded, as cantools does). */
  labelOf(signalIndex: number, value: number): string | undefined {
    const info = this.signals[signalIndex];
    if (!info?.labels) return undefined;
    const raw = info.factor === 1 && info.offset === 0 ? value : Math.round((value - info.offset) / info.factor);
    return info.labels.get(raw);
  }

  /**
   * Decodes every frame of `frames`, appending one sample per decoded signal to `out` (grown when
   * needed). Fills frameMessage / frameStatus for the batch and updates stats.
   */
  decode(frames: FrameBatch, out: SampleBatch): void {
    const count = frames.count;
    if (this.frameMessage.length < frames.capacity) {
      this.frameMessage = new Int32Array(frames.capacity);
      this.frameStatus = new Uint8Array(frames.capacity);
      this.frameSlot = new Int8Array(frames.capacity);
    }
    if (frames.busNames !== this.busNamesSeen || frames.busNames.length !== this.busCountSeen) this.mapBuses(frames.busNames);
    const { id: ids, len: lens, flags: flagsOf, bus: busOf, timeUs, data } = frames;
    const frameMessage = this.frameMessage;
    const frameStatus = this.frameStatus;
    const busTables = this.busTables;
    const decoders = this.decoders;
    const lengths = this.lengths;
    const messages = this.messages;
    const stats = this.stats;
    const history = this.history;
    const frameSlot = this.frameSlot;
    const firstSample = out.count;
    let k = firstSample;
    let decoded = 0;
    let unknown = 0;
    let short = 0;
    let skipped = 0;
    let repeated = 0;
    for (let i = 0; i < count; i++) {
      const flags = flagsOf[i];
      frameStatus[i] = 0;
      if ((flags & (FrameFlag.RTR | FrameFlag.ERROR)) !== 0) {
        frameMessage[i] = -1;
        skipped++;
        continue;
      }
      const table = busTables[busOf[i]];
      const id = ids[i];
      let m: number;
      if ((flags & FrameFlag.EXTENDED) !== 0) m = table.extended.get(id) ?? -1;
      else m = id < 0x800 ? table.standard[id] : -1;
      frameMessage[i] = m;
      if (m < 0) {
        unknown++;
        continue;
      }
      if (k + messages[m].signalCount > out.capacity) {
        out.count = k;
        growSampleBatch(out, k + messages[m].signalCount);
      }
      const n = lens[i];
      const at = i * FRAME_STRIDE;
      let hash = 0;
      if (history !== undefined) {
        hash = payloadHash(data, at, n);
        const slot = history.find(m, hash, data, at, n);
        if (slot >= 0) {
          frameSlot[i] = slot;
          frameStatus[i] = STATUS_REPEAT | (n < lengths[m] ? STATUS_SHORT : 0);
          decoded++;
          repeated += history.sampleCounts[m * HISTORY_SLOTS + slot];
          if (n < lengths[m]) short++;
          continue;
        }
      }
      const start = k;
      k = decoders[m](data, at, n, out.signal, out.value, k, out.wide);
      if (history !== undefined) frameSlot[i] = history.store(m, hash, data, at, n, k - start);
      const t = timeUs[i];
      const sampleTime = out.timeUs;
      const sampleFrame = out.frame;
      for (let j = start; j < k; j++) {
        sampleTime[j] = t;
        sampleFrame[j] = i;
      }
      decoded++;
      // Written for every frame: a store first met late (at the first short frame) would deoptimise.
      const status = n < lengths[m] ? STATUS_SHORT : 0;
      frameStatus[i] = status;
      short += status === 0 ? 0 : 1;
    }
    stats.samples += k - firstSample + repeated;
    out.count = k;
    stats.frames += count;
    stats.decoded += decoded;
    stats.unknownId += unknown;
    stats.short += short;
    stats.skipped += skipped;
  }

  private mapBuses(busNames: string[]): void {
    this.busTables = busNames.map((name) => this.tableFor(name));
    // A bus index without a name yet (should not happen) falls back to the '*' table.
    while (this.busTables.length < 256) this.busTables.push(this.anyBus);
    this.busNamesSeen = busNames;
    this.busCountSeen = busNames.length;
  }
}
