/**
 * A simulated ECU behind a CanDriver, for the demo and the command tests: it records every frame the agent sends,
 * decodes each with the real decoder and the vehicle's DBC, and lets a reaction answer by
 * broadcasting status frames (encoded with the real encoder) back into the agent's frame sink, as
 * a body or climate ECU would on the bus. `sendError` makes send() fail like a bus-off interface;
 * `answering = false` keeps the ECU silent (the command must time out).
 */
import type { CanDriver, DriverStats, FrameSink, OutgoingFrame } from '../../drivers/can/can-driver.js';
import { createFrameBatch, pushFrame } from '../../drivers/can/frame-batch.js';
import { frameProblem } from '../../drivers/can/frame-check.js';
import type { DbcDatabase } from '../../agent/decode/dbc-types.js';
import { Decoder } from '../../agent/decode/decoder.js';
import { encodeMessage } from '../../agent/decode/encoder.js';
import { createSampleBatch } from '../../agent/decode/sample-batch.js';

/** A frame the agent sent, decoded: message name and physical signal values. */
export interface DecodedRequest {
  bus: string;
  id: number;
  message: string;
  values: Record<string, number>;
}

export type EcuReaction = (request: DecodedRequest, ecu: SimulatedEcu) => void;

export class SimulatedEcu implements CanDriver {
  readonly name = 'simulated-ecu';
  /** Every frame passed to a successful send(), in order. */
  readonly sent: OutgoingFrame[] = [];
  /** Set to make send() reject with it. */
  sendError: Error | undefined;
  /** false: requests are recorded but not answered. */
  answering = true;

  private sink: FrameSink | undefined;
  private readonly decoder: Decoder;
  private readonly status = new Map<string, Record<string, number | string>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly counters: DriverStats = { framesIn: 0, framesOut: 0, errorFrames: 0, badInput: 0 };

  constructor(
    private readonly db: DbcDatabase,
    private readonly react: EcuReaction,
    private readonly options: { bus: string; delayMs?: number },
  ) {
    this.decoder = new Decoder([{ bus: '*', databases: [db] }]);
  }

  async open(sink: FrameSink): Promise<void> {
    this.sink = sink;
  }

  async send(frames: OutgoingFrame[]): Promise<void> {
    if (this.sendError) throw this.sendError;
    for (const frame of frames) {
      const problem = frameProblem(frame.id, frame.flags ?? 0, frame.data.length);
      if (problem) throw new Error(`${this.name}: ${problem}`);
    }
    for (const frame of frames) {
      this.sent.push({ ...frame, data: Uint8Array.from(frame.data) });
      this.counters.framesOut++;
      if (!this.answering) continue;
      const request = this.decode(frame);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.react(request, this);
      }, this.options.delayMs ?? 20);
      this.timers.add(timer);
    }
  }

  /** The sent frames, decoded. */
  sentRequests(): DecodedRequest[] {
    return this.sent.map((f) => this.decode(f));
  }

  /** Updates signals of a status message (the first call must give them all) and puts the frame on the bus. */
  broadcast(message: string, values: Record<string, number | string>): void {
    const dbcMessage = this.db.messages.find((m) => m.name === message);
    if (!dbcMessage) throw new Error(`no message ${message}`);
    const merged = { ...this.status.get(message), ...values };
    this.status.set(message, merged);
    const batch = createFrameBatch(1);
    pushFrame(batch, { bus: this.options.bus, id: dbcMessage.id, data: encodeMessage(dbcMessage, merged) });
    this.counters.framesIn++;
    this.sink?.(batch);
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.sink = undefined;
  }

  stats(): DriverStats {
    return { ...this.counters };
  }

  private decode(frame: OutgoingFrame): DecodedRequest {
    const batch = createFrameBatch(1);
    pushFrame(batch, frame);
    const samples = createSampleBatch(64);
    this.decoder.decode(batch, samples);
    const m = this.decoder.frameMessage[0];
    const values: Record<string, number> = {};
    for (let k = 0; k < samples.count; k++) values[this.decoder.signals[samples.signal[k]].name] = samples.value[k];
    return { bus: frame.bus, id: frame.id, message: m >= 0 ? this.decoder.messages[m].name : '?', values };
  }
}
