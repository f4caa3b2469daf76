/**
 * Who is subscribed to what: plain subscriptions per filter, and shared subscriptions
 * (`$share/<share>/<filter>`) per share name and filter, whose members take turns (round-robin).
 *
 * A publish is matched against every distinct filter (linear in the number of filters: fine for
 * the demo and tests, not for a fleet).
 */
import { topicMatches } from './topic-filter.js';

export interface SubscriptionOptions {
  qos: 0 | 1;
  noLocal: boolean;
  retainAsPublished: boolean;
  /** 0: send retained messages on subscribe, 1: only for a new subscription, 2: never. */
  retainHandling: 0 | 1 | 2;
}

interface Member<S> {
  subscriber: S;
  options: SubscriptionOptions;
}

interface PlainFilter<S> {
  levels: string[];
  subscribers: Map<S, SubscriptionOptions>;
}

export interface SharedGroup<S> {
  readonly share: string;
  readonly filter: string;
  readonly levels: string[];
  readonly members: Member<S>[];
  /** Index of the member whose turn is next. */
  next: number;
}

export interface Matches<S> {
  /** Each plain subscriber once: the matching subscriptions merged (highest QoS, retain-as-published if any). */
  plain: Map<S, SubscriptionOptions>;
  groups: SharedGroup<S>[];
}

export class SubscriptionTable<S> {
  private readonly plain = new Map<string, PlainFilter<S>>();
  private readonly shared = new Map<string, SharedGroup<S>>();

  /** Adds or replaces a subscription; true when it replaced an existing one. */
  add(subscriber: S, share: string | undefined, filter: string, options: SubscriptionOptions): boolean {
    if (share === undefined) {
      let entry = this.plain.get(filter);
      if (!entry) this.plain.set(filter, (entry = { levels: filter.split('/'), subscribers: new Map() }));
      const existed = entry.subscribers.has(subscriber);
      entry.subscribers.set(subscriber, options);
      return existed;
    }
    const key = `${share}/${filter}`; // a share name has no '/', so the key is unambiguous
    let group = this.shared.get(key);
    if (!group) this.shared.set(key, (group = { share, filter, levels: filter.split('/'), members: [], next: 0 }));
    const member = group.members.find((m) => m.subscriber === subscriber);
    if (member) member.options = options;
    else group.members.push({ subscriber, options });
    return member !== undefined;
  }

  /** Removes a subscription; false when there was none. */
  remove(subscriber: S, share: string | undefined, filter: string): boolean {
    if (share === undefined) {
      const entry = this.plain.get(filter);
      if (!entry?.subscribers.delete(subscriber)) return false;
      if (entry.subscribers.size === 0) this.plain.delete(filter);
      return true;
    }
    const key = `${share}/${filter}`;
    const group = this.shared.get(key);
    const at = group ? group.members.findIndex((m) => m.subscriber === subscriber) : -1;
    if (!group || at < 0) return false;
    group.members.splice(at, 1);
    if (at < group.next) group.next--;
    if (group.members.length === 0) this.shared.delete(key);
    return true;
  }

  /** Subscriptions (plain filters plus shared memberships). */
  get size(): number {
    let n = 0;
    for (const entry of this.plain.values()) n += entry.subscribers.size;
    for (const group of this.shared.values()) n += group.members.length;
    return n;
  }

  /** Subscriptions matching `topic`; `publisher` is skipped where its subscription has No Local. */
  match(topic: string, publisher: S | undefined): Matches<S> {
    const levels = topic.split('/');
    const plain = new Map<S, SubscriptionOptions>();
    for (const entry of this.plain.values()) {
      if (!topicMatches(entry.levels, levels)) continue;
      for (const [subscriber, options] of entry.subscribers) {
        if (options.noLocal && subscriber === publisher) continue;
        const seen = plain.get(subscriber);
        plain.set(subscriber, seen ? merge(seen, options) : options);
      }
    }
    const groups: SharedGroup<S>[] = [];
    for (const group of this.shared.values()) if (topicMatches(group.levels, levels)) groups.push(group);
    return { plain, groups };
  }

  /**
   * The member of `group` whose turn it is, preferring one for which `ready` is true (connected);
   * when none is, the next in turn anyway (its persistent session queues the message).
   */
  takeTurn(group: SharedGroup<S>, ready: (subscriber: S) => boolean): Member<S> {
    const n = group.members.length;
    let chosen = group.next % n;
    for (let i = 0; i < n; i++) {
      const at = (group.next + i) % n;
      if (ready(group.members[at].subscriber)) {
        chosen = at;
        break;
      }
    }
    group.next = (chosen + 1) % n;
    return group.members[chosen];
  }
}

function merge(a: SubscriptionOptions, b: SubscriptionOptions): SubscriptionOptions {
  return { ...a, qos: a.qos >= b.qos ? a.qos : b.qos, retainAsPublished: a.retainAsPublished || b.retainAsPublished };
}
