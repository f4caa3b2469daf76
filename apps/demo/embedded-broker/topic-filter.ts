/**
 * MQTT topic names and filters (MQTT 5 §4.7, §4.8.2): validation, `$share/<group>/<filter>`
 * parsing, and matching a topic against a filter with `+` (one level) and `#` (this level and
 * every level below, including the parent: `a/#` matches `a`).
 */

/** A topic a client may publish to: non-empty, no wildcards, no U+0000. */
export function validTopicName(topic: string): boolean {
  return topic.length > 0 && !/[+#\u0000]/.test(topic);
}

/** A filter: `+` alone in its level, `#` alone in the last level, no U+0000. */
export function validFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  return levels.every((level, i) => {
    if (level.includes('#')) return level === '#' && i === levels.length - 1;
    return !level.includes('+') || level === '+';
  });
}

export interface SubscriptionFilter {
  /** The share name of a `$share/<share>/<filter>` subscription, undefined for a plain one. */
  share: string | undefined;
  filter: string;
}

/** `$share/g/a/+` -> { share: 'g', filter: 'a/+' }; `a/+` -> { share: undefined, filter: 'a/+' }; undefined when invalid. */
export function parseSubscriptionFilter(raw: string): SubscriptionFilter | undefined {
  if (!raw.startsWith('$share/')) return validFilter(raw) ? { share: undefined, filter: raw } : undefined;
  const rest = raw.slice('$share/'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const share = rest.slice(0, slash);
  const filter = rest.slice(slash + 1);
  if (/[+#]/.test(share) || !validFilter(filter)) return undefined;
  return { share, filter };
}

/**
 * Whether a topic (split on '/') matches a filter (split on '/'). Topics starting with '$' are not
 * matched by a filter starting with a wildcard (§4.7.2: `#` does not see `$SYS/...`).
 */
export function topicMatches(filter: readonly string[], topic: readonly string[]): boolean {
  if (topic[0].startsWith('$') && (filter[0] === '+' || filter[0] === '#')) return false;
  for (let i = 0; i < filter.length; i++) {
    const level = filter[i];
    if (level === '#') return true;
    if (i >= topic.length) return false;
    if (level !== '+' && level !== topic[i]) return false;
  }
  return filter.length === topic.length;
}
