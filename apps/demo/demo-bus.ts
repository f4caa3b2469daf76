/**
 * The demo vehicle's bus: the recorded drive comes in from a replay driver, and the body and climate
 * ECUs of the demo DBC answer the agent's requests (remote commands) as they would on a real bus.
 */
import type { CanDriver, DriverStats, FrameSink, OutgoingFrame } from '../../drivers/can/can-driver.js';
import type { DbcDatabase } from '../../agent/decode/dbc-loader.js';
import { SimulatedEcu, type EcuReaction } from './simulated-ecu.js';

/** Body and climate ECUs of examples/demo/demo-vehicle.dbc (the drive ends with the car unlocked). */
export function demoEcuReaction(): EcuReaction {
  let lockState = 'UNLOCKED';
  return (request, ecu) => {
    const v = request.values;
    if (request.message === 'TCU_BODY_REQUEST') {
      if (v.LockRequest === 2) lockState = 'LOCKED';
      if (v.LockRequest === 1) lockState = 'UNLOCKED';
      ecu.broadcast('DOOR_STATUS', {
        DriverDoorOpen: 0, PassengerDoorOpen: 0, RearLeftDoorOpen: 0, RearRightDoorOpen: 0, TrunkOpen: 0,
        LockState: lockState, HornActive: v.HornRequest ? 1 : 0, LightsFlashing: v.LightsFlashRequest ? 1 : 0,
      });
    } else if (request.message === 'TCU_CLIMATE_REQUEST') {
      ecu.broadcast('CLIMATE_STATUS', { AcActive: v.AcRequest === 2 ? 1 : 0, CabinTemperature: 14 });
    }
  };
}

/** Frames in from `input` (the replayed drive); frames out go to the simulated ECUs, whose answers come in too. */
export class DemoBus implements CanDriver {
  readonly name = 'demo-bus';
  readonly ecu: SimulatedEcu;

  constructor(
    private readonly input: CanDriver,
    db: DbcDatabase,
    bus: string,
  ) {
    this.ecu = new SimulatedEcu(db, demoEcuReaction(), { bus, delayMs: 50 });
  }

  async open(sink: FrameSink): Promise<void> {
    await this.ecu.open(sink);
    await this.input.open(sink);
  }

  send(frames: OutgoingFrame[]): Promise<void> {
    return this.ecu.send(frames);
  }

  async close(): Promise<void> {
    await Promise.all([this.input.close(), this.ecu.close()]);
  }

  stats(): DriverStats {
    const a = this.input.stats();
    const b = this.ecu.stats();
    return { framesIn: a.framesIn + b.framesIn, framesOut: b.framesOut, errorFrames: a.errorFrames, badInput: a.badInput };
  }
}
