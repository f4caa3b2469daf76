import { createSampleBatch, type SampleBatch } from '../../agent/decode/sample-batch.js';
import type { RulesEngine } from '../../agent/rules/rules-engine.js';
import { mapSamples, type SignalMap } from '../../agent/rules/signal-map.js';

/**
 * Decoded samples into an engine the way the agent feeds it (agent/runtime/agent.ts onFrames):
 * mapped to vehicle signals by the catalog, then ingested. Returns the samples the catalog does not use.
 */
export function decodedIngester(engine: RulesEngine, map: SignalMap): (decoded: SampleBatch) => number {
  const vehicle = createSampleBatch(4096);
  return (decoded) => {
    vehicle.count = 0;
    const unmapped = mapSamples(decoded, map, vehicle);
    engine.ingestSamples(vehicle.signal, vehicle.timeUs, vehicle.value, vehicle.count);
    return unmapped;
  };
}
