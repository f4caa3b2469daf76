/**
 * Retained messages, one per topic: a retained publish replaces the topic's message, one with an
 * empty payload clears it (MQTT 5 §3.3.1.3). Expired messages are dropped when next looked at.
 */
import { isExpired, type BrokerMessage } from './message.js';
import { topicMatches } from './topic-filter.js';

export class RetainedStore {
  private readonly byTopic = new Map<string, BrokerMessage>();

  /** Keeps (or, for an empty payload, clears) the retained message of `message.topic`. */
  update(message: BrokerMessage): void {
    if (message.payload.length === 0) this.byTopic.delete(message.topic);
    else this.byTopic.set(message.topic, message);
  }

  /** Retained messages whose topic matches `filter`. */
  matching(filter: string, nowMs: number): BrokerMessage[] {
    const levels = filter.split('/');
    const out: BrokerMessage[] = [];
    for (const [topic, message] of this.byTopic) {
      if (isExpired(message, nowMs)) this.byTopic.delete(topic);
      else if (topicMatches(levels, topic.split('/'))) out.push(message);
    }
    return out;
  }

  get size(): number {
    return this.byTopic.size;
  }
}
