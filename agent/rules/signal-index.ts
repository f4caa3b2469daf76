/** Signal id → the items attached to it (conditions, accumulators), as flat arrays (compressed sparse rows). */
export interface SignalIndex {
  /** Items of signal s are items[first[s] .. first[s + 1]). */
  first: Uint32Array;
  items: Uint32Array;
}

/** Builds the index from (signal, item) links; duplicate links count once. */
export function buildSignalIndex(signalCount: number, links: Iterable<readonly [signal: number, item: number]>): SignalIndex {
  const seen = new Set<string>();
  const unique: (readonly [number, number])[] = [];
  for (const link of links) {
    const key = `${link[0]}/${link[1]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(link);
  }
  const first = new Uint32Array(signalCount + 1);
  for (const [s] of unique) first[s + 1]++;
  for (let s = 0; s < signalCount; s++) first[s + 1] += first[s];
  const items = new Uint32Array(unique.length);
  const fill = first.slice(0, signalCount);
  for (const [s, item] of unique) items[fill[s]++] = item;
  return { first, items };
}
