/**
 * What the command path reads of the vehicle: the current value of catalog signals, and a call after
 * new values came in. Safety preconditions are checked against it before a command is sent, and its
 * confirmation condition after every update while the command waits.
 */

export interface LiveSignals {
  /** Current value of a vehicle signal (catalog name, catalog units); undefined while unknown. */
  value(name: string): number | undefined;
  /** Calls `listener` after each batch of new values; returns the function that unsubscribes. */
  onUpdate(listener: () => void): () => void;
}

/** The part of the rules engine (agent/rules/rules-engine.ts) that holds the current values. */
export interface SignalValues {
  readonly values: Float64Array;
  signalId(name: string): number | undefined;
}

/**
 * LiveSignals over the rules engine's current values. The agent calls `notify()` after each
 * `engine.ingest(...)` (once per decoded batch, not per frame; nothing is allocated).
 */
export class EngineLiveSignals implements LiveSignals {
  private listeners: (() => void)[] = [];

  constructor(private readonly engine: SignalValues) {}

  value(name: string): number | undefined {
    const id = this.engine.signalId(name);
    if (id === undefined) return undefined;
    const v = this.engine.values[id];
    return v === v ? v : undefined;
  }

  onUpdate(listener: () => void): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  notify(): void {
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) listeners[i]();
  }
}
