/**
 * The agent: wires one configuration into the data path and keeps it running.
 *
 *   drivers → decoder → catalog mapping → rules engine + vehicle features → store → uplink
 *   uplink → commands → drivers (see agent/commands/)
 *
 * Per frame batch (the hot path): decode into a reused SampleBatch, map to vehicle signals, feed the
 * rules engine (which records the signal history first) and then the features. Everything the rules
 * and features produce goes to the SQLite store; the uplink drains the store.
 */
import type { CanDriver } from '../../drivers/can/can-driver.js';
import type { FrameBatch } from '../../drivers/can/frame-batch.js';
import type { GnssFix } from '../../drivers/gnss/fix-assembler.js';
import type { GnssDriver } from '../../drivers/gnss/gnss-driver.js';
import type { appendFixSamples as AppendFixSamplesFn, GnssSignalIds } from '../../drivers/gnss/gnss-signals.js';
import type { ICheckin, IStatus, ISignalDescriptor } from '../../proto/gen/roadlink.js';
import { Status } from '../../proto/gen/roadlink.js';
import { vehicleSignalNames, type Config } from '../config/config.js';
import { defaultCacheDir } from '../decode/dbc-cache.js';
import { loadDbcFile } from '../decode/dbc-loader.js';
import { Decoder } from '../decode/decoder.js';
import { createSampleBatch, type SampleBatch } from '../decode/sample-batch.js';
import { rulesEngineFor, signalMapFor } from '../rules/engine-from-config.js';
import { buildFeatures, positionSourceFor, type FeatureEvent, type FeatureSet } from '../rules/features/index.js';
import type { RuleOutput } from '../rules/rule-output.js';
import type { RulesEngine } from '../rules/rules-engine.js';
import { SignalHistory } from '../rules/signal-history.js';
import { mapSamples, type SignalMap } from '../rules/signal-map.js';
import { openOrRecover } from '../store/open-or-recover.js';
import type { Store } from '../store/store.js';
import { signalTableId } from '../uplink/checkin.js';
import { Uplink } from '../uplink/uplink.js';
import { AGENT_VERSION } from './version.js';
import { AuditLog } from '../commands/audit-log.js';
import { compileCommandCatalog, type CommandCatalog } from '../commands/command-catalog.js';
import { CommandProcessor } from '../commands/command-processor.js';
import { EngineLiveSignals } from '../commands/live-signals.js';
import { RulesUpdater } from '../commands/rules-update.js';
import { vehicleProfileFields } from '../config/sections/vehicle.js';
import { createCanDrivers, type CanDriverOptions, type CanDriverSet } from './can-drivers.js';
import { EventRecords } from './event-records.js';
import { stderrLogger, type Logger } from '../../wire/log.js';
import { vehicleSignalDescriptors } from './vehicle-signals.js';

export interface AgentOptions {
  log?: Logger;
  /** 'wall' (default): replayed frames carry the current time, as if live; 'log': the log's own times. */
  replayTimestamps?: 'wall' | 'log';
  /** How often the features' timers and the rules' clock advance, ms. Default 1000. */
  tickMs?: number;
  /** Builds the CAN drivers (default: createCanDrivers from the configuration; the demo adds a simulated ECU). */
  canDrivers?: (config: Config, decoder: Decoder, options: CanDriverOptions) => CanDriverSet;
}

const STATUS_STATE_KEY = 'status';
const EVENTS_STREAM = 'events';

/** The GNSS sample writer, loaded only when a GNSS source is configured. */
type AppendFixSamples = typeof AppendFixSamplesFn;

export class Agent {
  readonly decoder: Decoder;
  readonly engine: RulesEngine;
  readonly features: FeatureSet;
  readonly store: Store;
  readonly uplink: Uplink | undefined;
  readonly drivers: CanDriverSet;
  readonly signals: readonly ISignalDescriptor[];
  /** Remote commands and rules updates: present when the configuration has an uplink. */
  readonly commands: CommandProcessor | undefined;
  readonly rulesUpdater: RulesUpdater | undefined;
  private readonly live: EngineLiveSignals;
  private readonly audit: AuditLog | undefined;
  private readonly log: Logger;
  private readonly signalMap: SignalMap;
  private readonly records: EventRecords;
  private readonly decoded = createSampleBatch();
  private readonly vehicle = createSampleBatch();
  private readonly gnssBatch = createSampleBatch(16);
  private gnss: GnssDriver | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private lastSampleUs = 0;
  private readonly counters = { frameBatches: 0, frames: 0, decodedSamples: 0, vehicleSamples: 0, gnssFixes: 0, unmapped: 0, events: 0, statusUpdates: 0, pipelineErrors: 0 };
  private stopped = false;

  private constructor(readonly config: Config, private readonly options: AgentOptions) {
    this.log = options.log ?? stderrLogger(config.logLevel);
    const bindings = config.buses.map((bus) => ({ bus: bus.name, databases: bus.dbc.map((file) => this.loadDbc(file)) }));
    this.decoder = new Decoder(bindings);
    // Checked before anything is opened: a command naming an unknown DBC signal is a configuration error.
    const catalog = config.uplink ? this.compileCatalog(bindings) : undefined;
    const history = new SignalHistory(vehicleSignalNames(config).length);
    this.engine = rulesEngineFor(config, this.ruleOutput(), history);
    this.live = new EngineLiveSignals(this.engine);
    this.signalMap = signalMapFor(config, this.engine, this.decoder.signals);
    for (const entry of this.signalMap.unmatched) {
      this.log('warn', `signal catalog: ${entry.name} ← ${entry.source.message}.${entry.source.signal}: no such signal in the DBC files of ${entry.source.bus ?? 'any bus'}`);
    }
    this.signals = vehicleSignalDescriptors(config, this.decoder.signals, this.signalMap);
    const { storage } = config;
    this.store = openOrRecover(
      {
        path: storage.path,
        signalGrid: (id) => this.signals[id] as { scale: number; offset: number },
        signalTable: signalTableId(this.signals),
        commitIntervalMs: storage.commitIntervalMs,
        commitMaxSamples: storage.commitRows,
        quotaBytes: storage.quotaBytes,
        synchronous: storage.synchronous === 'full' ? 'FULL' : 'NORMAL',
        onEvict: (report) => this.log('warn', `store quota: evicted ${JSON.stringify(report)}`),
        onError: (error) => this.log('error', `store: ${error.message}`),
      },
      (message) => this.log('warn', message),
    );
    const canNames = new Set(config.signals.map((s) => s.name));
    this.features = buildFeatures(
      {
        signalId: (name) => this.engine.signalId(name) ?? -1,
        signalName: (id) => this.engine.signalNames[id],
        history,
        positionSource: positionSourceFor(canNames),
        emit: (event) => this.onFeatureEvent(event),
      },
      config.features,
      config.monitors,
    );
    this.records = new EventRecords(this.signals, () => this.features.position.record());
    this.restoreStatus();
    this.uplink = config.uplink && this.createUplink(config.uplink);
    const canDrivers = options.canDrivers ?? ((c, decoder, o) => createCanDrivers(c.buses, decoder, o));
    this.drivers = canDrivers(config, this.decoder, {
      replayTimestamps: options.replayTimestamps,
      onInterfaceState: (e) => this.log(e.state === 'up' ? 'info' : 'warn', `bus ${e.bus} (${e.iface}) is ${e.state}${e.reason ? `: ${e.reason}` : ''}`),
      onError: (error) => this.log('error', error.message),
    });
    if (this.uplink) {
      this.audit = new AuditLog(config.commands.auditLog, (message) => this.log('error', `audit log: ${message}`));
      this.commands = this.createCommandProcessor(this.uplink, catalog!);
      this.rulesUpdater = this.createRulesUpdater(this.uplink);
    }
  }

  /** Builds the agent from a checked configuration and starts every part. */
  static async start(config: Config, options: AgentOptions = {}): Promise<Agent> {
    const agent = new Agent(config, options);
    try {
      await agent.open();
    } catch (err) {
      await agent.stop().catch(() => {}); // the store and the uplink are open already
      throw err;
    }
    return agent;
  }

  /** Resolves when every replayed log has been played (never for live buses or looping replays). */
  get replaysEnded(): Promise<void> {
    return this.drivers.replaysEnded;
  }

  /** The driver that sends frames on `bus` (the commands path). */
  driverFor(bus: string): CanDriver | undefined {
    return this.drivers.forBus(bus);
  }

  stats() {
    return {
      ...this.counters,
      decoder: this.decoder.stats,
      rules: this.engine.stats,
      store: this.store.stats(),
      uplink: this.uplink?.stats(),
      drivers: this.drivers.all.map((d) => ({ name: d.name, ...d.stats() })),
      gnss: this.gnss?.stats(),
    };
  }

  /**
   * End of input (a replay has been played): completes pending post-trigger windows, commits, and
   * resolves once the uplink has had every stored row acknowledged (at once without an uplink).
   */
  async drained(pollMs = 100): Promise<void> {
    this.tick();
    this.engine.finish();
    this.store.flush();
    if (!this.uplink) return;
    for (;;) {
      const s = this.store.stats();
      if (s.storedRows === 0 && s.pendingSamples === 0 && s.pendingRecords === 0) return;
      this.uplink.wake(); // every time: rows handed back by a lost connection skip the batching window too
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** Stops the drivers, completes pending event windows, commits the store, closes the uplink. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.ticker);
    await Promise.all(this.drivers.all.map((d) => d.close()));
    await this.gnss?.close();
    this.engine.finish();
    this.store.flush();
    await this.uplink?.stop();
    this.commands?.close();
    this.store.close();
  }

  private async open(): Promise<void> {
    this.uplink?.start();
    await Promise.all(this.drivers.all.map((d) => d.open((batch) => this.onFrames(batch))));
    if (this.config.gnss) await this.openGnss();
    this.ticker = setInterval(() => this.tick(), this.options.tickMs ?? 1000);
    this.ticker.unref();
    this.log('info', `agent ${AGENT_VERSION} started: vin ${this.config.vehicle.vin}, ${this.config.buses.length} bus(es), ${this.signals.length} vehicle signals, ${this.config.rules.length} rules`);
  }

  /** The hot path: one batch of frames from a driver. Nothing in here may throw into the driver. */
  private onFrames(batch: FrameBatch): void {
    try {
      this.counters.frameBatches++;
      this.counters.frames += batch.count;
      this.decoded.count = 0;
      this.decoder.decode(batch, this.decoded);
      if (this.counters.decodedSamples === 0 && this.decoded.count > 0) this.firstDecoded();
      this.counters.decodedSamples += this.decoded.count;
      this.vehicle.count = 0;
      this.counters.unmapped += mapSamples(this.decoded, this.signalMap, this.vehicle);
      // The rules' clock in log-time replays follows the CAN log (GNSS replays are rebased to now).
      if (this.vehicle.count > 0) this.lastSampleUs = this.vehicle.timeUs[this.vehicle.count - 1];
      this.ingestVehicleSamples(this.vehicle);
    } catch (err) {
      this.counters.pipelineErrors++;
      this.log('error', `pipeline: ${(err as Error).stack ?? err}`);
    }
  }

  /** The start-time mark (npm run bench -- footprint): ms since the process started, on the performance clock, and the CPU used so far. */
  private firstDecoded(): void {
    const cpu = process.cpuUsage();
    this.log('info', `first frame decoded ${Math.round(performance.now())} ms after process start (${Math.round((cpu.user + cpu.system) / 1000)} ms of CPU)`);
  }

  /** One GNSS fix as samples of the vehicle signals GNSS feeds (no closure per fix); nothing in here may throw into the driver. */
  private onFix(fix: GnssFix, ids: GnssSignalIds, appendFixSamples: AppendFixSamples): void {
    try {
      this.counters.gnssFixes++;
      this.gnssBatch.count = 0;
      appendFixSamples(fix, ids, this.gnssBatch);
      this.ingestVehicleSamples(this.gnssBatch);
    } catch (err) {
      this.counters.pipelineErrors++;
      this.log('error', `pipeline (gnss): ${(err as Error).stack ?? err}`);
    }
  }

  /** The one way samples in vehicle signal ids (from CAN or GNSS) enter the rules and features. */
  private ingestVehicleSamples(v: SampleBatch): void {
    if (v.count === 0) return;
    this.counters.vehicleSamples += v.count;
    this.engine.ingestSamples(v.signal, v.timeUs, v.value, v.count);
    this.features.onSamples(v.signal, v.timeUs, v.value, v.count);
    this.live.notify();
  }

  /** About once a second: features' timers, and the rules' clock on a quiet bus. */
  private tick(): void {
    const nowUs = this.options.replayTimestamps === 'log' ? this.lastSampleUs : Date.now() * 1000;
    if (nowUs <= 0) return;
    try {
      this.engine.advanceTo(nowUs);
      this.features.tick(nowUs);
    } catch (err) {
      this.counters.pipelineErrors++;
      this.log('error', `tick: ${(err as Error).stack ?? err}`);
    }
  }

  private ruleOutput(): RuleOutput {
    return {
      sample: (_rule, stream, priority, signalId, timeUs, value) => this.store.appendSample(stream, priority, signalId, timeUs, value),
      event: (trigger) => this.storeEvent(trigger.priority, trigger.timeUs, this.records.trigger(trigger), trigger.immediate),
    };
  }

  private onFeatureEvent(event: FeatureEvent): void {
    if (event.kind === 'status') {
      this.publishStatus(event.status);
      return;
    }
    this.storeEvent(event.priority, event.timeUs, this.records.feature(event), event.immediate);
  }

  private storeEvent(priority: number, timeUs: number, bytes: Uint8Array, immediate: boolean): void {
    this.counters.events++;
    this.store.appendRecord(EVENTS_STREAM, priority, timeUs, bytes);
    if (immediate) {
      this.store.flush();
      this.uplink?.wake();
    }
  }

  /** Status: kept in the store's state table (it survives restarts) and published retained. */
  private publishStatus(status: IStatus): void {
    this.counters.statusUpdates++;
    const bytes = this.records.status(status);
    this.store.putState(STATUS_STATE_KEY, bytes);
    this.uplink?.publishStatus(bytes).catch((err: Error) => this.log('warn', `status not published: ${err.message}`));
  }

  private restoreStatus(): void {
    const saved = this.store.getState(STATUS_STATE_KEY);
    if (!saved) return;
    try {
      this.features.status?.restore(Status.decode(saved));
    } catch (err) {
      this.log('warn', `saved status unreadable, starting without it: ${(err as Error).message}`);
    }
  }

  private createUplink(uplink: NonNullable<Config['uplink']>): Uplink {
    const { vehicle } = this.config;
    const streamTopics: Record<string, 'data' | 'events'> = { [EVENTS_STREAM]: 'events', data: 'data' };
    for (const rule of this.config.rules) if (rule.type === 'regular') streamTopics[rule.stream] = 'data';
    const checkin = (): ICheckin => ({
      vin: vehicle.vin,
      brand: vehicle.brand,
      model: vehicle.model,
      fuelType: vehicle.fuelType,
      modelYear: vehicle.modelYear,
      agentVersion: AGENT_VERSION,
      configVersion: this.config.version,
      rulesVersion: this.rulesUpdater?.activeVersion ?? 0,
      capabilities: this.capabilities(),
      signals: [...this.signals],
    });
    return new Uplink({
      vin: vehicle.vin,
      broker: {
        url: uplink.broker,
        keepaliveS: Math.round(uplink.keepaliveMs / 1000),
        tls: uplink.tls && { caFile: uplink.tls.ca, certFile: uplink.tls.cert, keyFile: uplink.tls.key },
      },
      store: this.store,
      checkin,
      maxInFlight: uplink.inFlight,
      maxPayloadBytes: uplink.maxPayloadBytes,
      deflate: uplink.deflate,
      batchWindowMs: uplink.batchWindowMs,
      streamTopics,
      log: (level, message) => this.log(level, `uplink: ${message}`),
    });
  }

  private compileCatalog(bindings: ConstructorParameters<typeof Decoder>[0]): CommandCatalog {
    const { config } = this;
    return compileCommandCatalog(config.commands.catalog, {
      bindings,
      signals: config.signals,
      signalNames: vehicleSignalNames(config),
      states: config.states,
      profile: vehicleProfileFields(config.vehicle),
    });
  }

  private createCommandProcessor(uplink: Uplink, catalog: CommandCatalog): CommandProcessor {
    const { config } = this;
    const processor = new CommandProcessor({
      vin: config.vehicle.vin,
      config: config.commands,
      catalog,
      driver: this.drivers,
      live: this.live,
      store: this.store,
      publish: (bytes) => uplink.publishCommandResponse(bytes),
      audit: this.audit,
      log: (level, message) => this.log(level, `commands: ${message}`),
    });
    uplink.onCommand((bytes) => processor.handle(bytes).then(() => undefined));
    return processor;
  }

  private createRulesUpdater(uplink: Uplink): RulesUpdater {
    const { config } = this;
    const updater = new RulesUpdater({
      vin: config.vehicle.vin,
      keys: config.commands.keys,
      engine: this.rulesHost(),
      monitors: config.monitors,
      setMonitors: (monitors) => this.features.setMonitors(monitors),
      signalNames: vehicleSignalNames(config),
      store: this.store,
      publishAck: (bytes) => uplink.publishRulesAck(bytes),
      audit: this.audit,
      log: (level, message) => this.log(level, `rules update: ${message}`),
    });
    const version = updater.restore();
    if (version > 0) this.log('info', `rules version ${version} (from a backend update) is in force`);
    uplink.onRulesUpdate((bytes) => updater.handle(bytes).then(() => undefined));
    return updater;
  }

  /** The engine as the rules updater sees it: new states also reach the features' ignition. */
  private rulesHost(): ConstructorParameters<typeof RulesUpdater>[0]['engine'] {
    const { engine, features } = this;
    return {
      get rules() { return engine.rules; },
      get states() { return engine.states; },
      replaceRules(rules, states) {
        engine.replaceRules(rules, states); // atomic: throws, changing nothing, when anything is wrong
        if (states) features.setStates(states); // the same expressions, already compiled once by the engine

      },
    };
  }

  private capabilities(): string[] {
    const caps = this.config.buses.map((b) => `bus:${b.driver}`);
    for (const command of this.config.commands.catalog) caps.push(`cmd:${command.name}`);
    if (this.config.gnss) caps.push('gnss');
    return [...new Set(caps)];
  }

  private async openGnss(): Promise<void> {
    // Loaded only for a configuration with a receiver (like the drivers' other optional parts).
    const [{ createGnssDriver }, { appendFixSamples, gnssSignalIds }] = await Promise.all([
      import('../../drivers/gnss/create-gnss-driver.js'),
      import('../../drivers/gnss/gnss-signals.js'),
    ]);
    const gnss = this.config.gnss!;
    const replaySpeed = this.config.buses.find((b) => b.driver === 'replay')?.speed;
    this.gnss = createGnssDriver(
      'file' in gnss && gnss.file ? { file: gnss.file, loop: gnss.loop, speed: replaySpeed ?? 1, rebaseToNow: true } : { device: (gnss as { device: string }).device, baud: (gnss as { baud?: number }).baud },
    );
    const ids = gnssSignalIds((name) => (this.config.signals.some((s) => s.name === name) ? -1 : this.engine.signalId(name) ?? -1));
    await this.gnss.open((fix) => this.onFix(fix, ids, appendFixSamples));
  }

  private loadDbc(file: string) {
    // Cached parsed: the PSA DBC takes ~50 ms to parse here, several times that on a head unit's core.
    const { db, warnings } = loadDbcFile(file, { cacheDir: defaultCacheDir() });
    if (warnings.length > 0) this.log('info', `${file}: loaded with ${warnings.length} warning(s); roadlink decode --warnings lists them`);
    return db;
  }
}
