/**
 * The sequence spaces of one vehicle stream, one per store epoch (the MQTT user property `epoch`;
 * "" when absent, as from agents without one). A vehicle whose store file was replaced (a corrupt
 * one moved aside) numbers from 1 again under a new epoch: those numbers are a new space, reported
 * once as a new epoch, never counted as duplicates of the old ones. Late or re-sent messages of an
 * earlier epoch still go to that epoch's space.
 */
import { SequenceTracker, type Arrival, type SequenceSummary } from './sequence-tracker.js';

export interface EpochArrival extends Arrival {
  /** This arrival opened an epoch not seen before, after `previous` (undefined for the stream's first). */
  newEpoch?: { epoch: string; previous: string };
}

export interface StreamSummary extends SequenceSummary {
  /** The epoch of these figures (the latest opened), when not "". */
  epoch?: string;
  /** Figures of the earlier epochs, by epoch, when the stream had several. */
  earlier?: Record<string, SequenceSummary>;
}

export class EpochSequences {
  private readonly spaces = new Map<string, SequenceTracker>();
  private current: string | undefined;

  add(epoch: string, first: number, count: number): EpochArrival {
    let space = this.spaces.get(epoch);
    let opened: EpochArrival['newEpoch'];
    if (!space) {
      this.spaces.set(epoch, (space = new SequenceTracker()));
      if (this.current !== undefined) opened = { epoch, previous: this.current };
      this.current = epoch;
    }
    const arrival: EpochArrival = space.add(first, count);
    if (opened) arrival.newEpoch = opened;
    return arrival;
  }

  summary(): StreamSummary {
    const current = this.current ?? '';
    const summary: StreamSummary = this.spaces.get(current)?.summary() ?? new SequenceTracker().summary();
    if (current !== '') summary.epoch = current;
    if (this.spaces.size > 1) {
      summary.earlier = {};
      for (const [epoch, space] of this.spaces) if (epoch !== current) summary.earlier[epoch] = space.summary();
    }
    return summary;
  }
}
