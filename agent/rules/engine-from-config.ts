/** Builds the rules engine and the decoder → catalog mapping from a loaded Config. */
import { vehicleSignalNames, type Config } from '../config/config.js';
import { vehicleProfileFields } from '../config/sections/vehicle.js';
import type { RuleOutput } from './rule-output.js';
import { RulesEngine } from './rules-engine.js';
import type { SignalHistory } from './signal-history.js';
import { buildSignalMap, decoderSignalRefs, type SignalMap } from './signal-map.js';

export function rulesEngineFor(config: Config, output: RuleOutput, history?: SignalHistory): RulesEngine {
  return new RulesEngine({
    signals: vehicleSignalNames(config),
    profile: vehicleProfileFields(config.vehicle),
    states: config.states,
    rules: config.rules,
    output,
    history,
  });
}

/** Maps a Decoder's signal table (decoder.signals) onto the engine's vehicle signals. */
export function signalMapFor(
  config: Config,
  engine: RulesEngine,
  decoderSignals: readonly { bus: string; messageName: string; name: string }[],
): SignalMap {
  return buildSignalMap(config.signals, (name) => engine.signalId(name), decoderSignalRefs(decoderSignals));
}
