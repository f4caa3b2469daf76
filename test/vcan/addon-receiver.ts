// A raw channel of the socketcan addon (node_modules/socketcan) that keeps what it receives.
import { createRawChannel } from 'socketcan';
import type { AddonMessage } from '../../drivers/socketcan/socketcan-driver.js';

export type RawChannel = ReturnType<typeof createRawChannel>;

/** Kernel CAN filter as the addon takes it: (received id & mask) == (id & mask). */
export interface AddonFilter {
  id: number;
  mask: number;
  invert?: boolean;
}

export class AddonReceiver {
  readonly messages: AddonMessage[] = [];
  private readonly channel: RawChannel;
  private wake: (() => void) | undefined;

  /** Opens and starts the channel; the socket is bound (and queues frames) once this returns. */
  constructor(iface: string, filters?: AddonFilter[]) {
    this.channel = createRawChannel(iface, true);
    if (filters) this.channel.setRxFilters(filters as unknown as Record<string, unknown>[]);
    this.channel.addListener('onMessage', (m: AddonMessage) => {
      this.messages.push(m);
      this.wake?.();
    });
    this.channel.start();
  }

  /** Resolves with the first message matching the predicate, or fails after timeoutMs. */
  async waitFor(predicate: (m: AddonMessage) => boolean, timeoutMs = 30_000): Promise<AddonMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        const got = this.messages.map((m) => `${m.id.toString(16)}#${m.data.toString('hex')}`);
        throw new Error(`socketcan addon: no matching frame within ${timeoutMs} ms; got ${JSON.stringify(got)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  stop(): void {
    this.channel.stop();
  }
}
