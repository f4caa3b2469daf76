/**
 * Remote commands, from SignedCommand bytes (topic cmd/req) to CAN frames and CommandResponses
 * (topic cmd/res). A command reaches the bus only when every check passed, in this order:
 *
 *   1. envelope and signature: malformed | unsigned | unknown_key | key_not_allowed | bad_signature
 *   2. request fields: malformed (no id, no name, nonce not 8..64 bytes, expiry before issue)
 *   3. an id seen before: the first result is published again (IN_PROGRESS while it runs); no frame
 *   4. freshness: wrong_vin | expired | not_yet_valid | lifetime_too_long (clock skew tolerated)
 *   5. replayed: the nonce was used by another accepted command
 *   -- from here the id is remembered (persistently, before any frame) and its result is kept --
 *   6. unknown_command | bad_args (schema, DBC range, encoding)
 *   7. busy (max_in_progress commands running) | conflict (a command of the same group is running:
 *      the second is rejected, not queued, so that the backend decides and no stale command runs late)
 *   8. unsafe:<precondition> (a precondition on live signals is false, or reads an unknown value)
 *
 * Then: IN_PROGRESS, the frames go to the driver, and the command ends SUCCEEDED when its
 * confirmation condition holds on a live-signal update after the send (at once without one), FAILED
 * (send_error) when the driver refuses the frames, or TIMEOUT (no_confirmation) when the timeout,
 * counted from acceptance, runs out. Refusals of steps 1-5 are answered but not remembered (there is
 * no authentic command to remember, or remembering it would let a replay overwrite the original);
 * a refusal of step 1 carries the request's unverified id unless that id belongs to a remembered
 * command (see unverifiedId).
 * Every decision goes to the audit log and the counters.
 */
import type { CanDriver, OutgoingFrame } from '../../drivers/can/can-driver.js';
import { CommandRequest, CommandResponse, CommandState, type ICommandResponse } from '../../proto/gen/roadlink.js';
import { AuditLog } from './audit-log.js';
import { CommandArgError, type CommandCatalog, type CompiledCommand } from './command-catalog.js';
import { Keyring } from '../../wire/command-keys.js';
import { CommandLedger, type StateStore } from './command-ledger.js';
import type { CommandsConfig } from '../config/sections/commands.js';
import type { LiveSignals } from './live-signals.js';
import { openEnvelope, SIGNED_COMMAND } from '../../wire/signed-envelope.js';
import type { Logger } from '../../wire/log.js';


export interface CommandProcessorOptions {
  vin: string;
  /** Keys, limits and audit log (config.commands). */
  config: CommandsConfig;
  /** compileCommandCatalog(config.commands.catalog, vehicle). */
  catalog: CommandCatalog;
  driver: Pick<CanDriver, 'send'>;
  live: LiveSignals;
  /** Where ids and nonces are remembered (the agent's Store). */
  store: StateStore;
  /** Publishes a serialised CommandResponse on cmd/res (uplink.publishCommandResponse). */
  publish: (bytes: Uint8Array) => Promise<void> | void;
  /** Default: new AuditLog(config.auditLog). */
  audit?: AuditLog;
  /** Wall clock in ms (tests). Default Date.now. */
  now?: () => number;
  log?: Logger;
}

export interface CommandResult {
  /** The request id ('' when the message was unreadable). */
  id: string;
  /** The first response published for this message. */
  response: CommandResponse;
  /** The final response (the first one when it already was final). */
  final: Promise<CommandResponse>;
}

export interface CommandStats {
  received: number;
  accepted: number;
  duplicates: number;
  inProgress: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  rejected: number;
  /** Rejections and failures by reason (unsafe:<name> included). */
  byReason: Record<string, number>;
  publishErrors: number;
  ledgerErrors: number;
}

interface Running {
  id: string;
  command: CompiledCommand;
  finished: boolean;
  timer?: NodeJS.Timeout;
  unsubscribe?: () => void;
  resolve: (response: CommandResponse) => void;
  final: Promise<CommandResponse>;
}

const NONCE_MIN_BYTES = 8;
const NONCE_MAX_BYTES = 64;
const ID_PATTERN = /^[\x21-\x7e]{1,128}$/;

export class CommandProcessor {
  private readonly keyring: Keyring;
  private readonly ledger: CommandLedger;
  private readonly audit: AuditLog;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly running = new Map<string, Running>();
  private readonly counters: Omit<CommandStats, 'inProgress' | 'byReason'> = {
    received: 0, accepted: 0, duplicates: 0, succeeded: 0, failed: 0, timedOut: 0, rejected: 0, publishErrors: 0, ledgerErrors: 0,
  };
  private readonly byReason: Record<string, number> = {};
  private closed = false;

  /** Throws when the remembered commands cannot be read from the store. */
  constructor(private readonly options: CommandProcessorOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? ((level, message) => console.error(`roadlink commands ${level}: ${message}`));
    this.keyring = new Keyring(options.config.keys);
    this.audit = options.audit ?? new AuditLog(options.config.auditLog, (m) => this.log('error', m));
    this.ledger = new CommandLedger(options.store, this.now(), (entry) => {
      this.audit.write({ event: 'state', id: entry.id, name: entry.name, state: 'FAILED', reason: 'interrupted' });
      return this.encode(entry.id, CommandState.COMMAND_STATE_FAILED, 'interrupted', 'the agent stopped while the command ran; whether the vehicle acted is unknown');
    });
  }

  /**
   * Handles one cmd/req payload. Resolves once the command is refused or accepted (remembered,
   * IN_PROGRESS published), not when it completes: `final` does. Never rejects.
   */
  async handle(bytes: Uint8Array): Promise<CommandResult> {
    this.counters.received++;
    try {
      return this.process(bytes);
    } catch (error) {
      // A bug, not an input problem: answered and logged, the agent goes on.
      this.log('error', `command handling failed: ${(error as Error).stack ?? String(error)}`);
      return this.refuse('', 'internal_error', (error as Error).message);
    }
  }

  private process(bytes: Uint8Array): CommandResult {
    if (this.closed) return this.refuse('', 'shutdown', 'the agent is stopping');
    const opened = openEnvelope(bytes, SIGNED_COMMAND, this.keyring);
    if (!opened.ok) return this.refuse(this.unverifiedId(opened.body), opened.reason, opened.detail, { key_id: opened.keyId });
    const request = opened.message;
    const facts = { name: request.name, key_id: opened.keyId, args: { ...request.args } };
    const problem = requestProblem(request);
    if (problem) return this.refuse(ID_PATTERN.test(request.id) ? request.id : '', 'malformed', problem, facts);

    const seen = this.ledger.find(request.id);
    if (seen) return this.duplicate(request.id, seen.result);

    const now = this.now();
    const { clockSkewMs, maxLifetimeMs } = this.options.config;
    const issued = request.issuedAtMs;
    const expires = request.expiresAtMs;
    if (request.vin !== this.options.vin) return this.refuse(request.id, 'wrong_vin', `for VIN ${JSON.stringify(request.vin.slice(0, 32))}, this is ${this.options.vin}`, facts);
    if (expires + clockSkewMs < now) return this.refuse(request.id, 'expired', `expired ${now - expires} ms ago`, facts);
    if (issued - clockSkewMs > now) return this.refuse(request.id, 'not_yet_valid', `issued ${issued - now} ms in the future (clock skew tolerance ${clockSkewMs} ms)`, facts);
    if (expires - issued > maxLifetimeMs) return this.refuse(request.id, 'lifetime_too_long', `valid for ${expires - issued} ms, at most ${maxLifetimeMs} ms`, facts);
    const nonce = Buffer.from(request.nonce).toString('base64');
    if (this.ledger.nonceSeen(nonce)) return this.refuse(request.id, 'replayed', 'nonce already used by an accepted command', facts);

    this.ledger.prune(now);
    try {
      this.ledger.begin({ id: request.id, nonce, name: request.name, keepUntilMs: expires + clockSkewMs + this.options.config.rememberMs });
    } catch (error) {
      this.counters.ledgerErrors++;
      return this.refuse(request.id, 'storage_error', `cannot remember the command: ${(error as Error).message}`, facts);
    }
    this.counters.accepted++;
    this.audit.write({ event: 'accepted', id: request.id, ...facts, issued_at_ms: issued, expires_at_ms: expires });
    return this.start(request.id, request.name, request.args);
  }

  /** Commands running now. */
  get inProgress(): number {
    return this.running.size;
  }

  stats(): CommandStats {
    return { ...this.counters, inProgress: this.running.size, byReason: { ...this.byReason } };
  }

  /** Ends running commands as FAILED 'shutdown' (remembered), and refuses new ones. */
  close(): void {
    this.closed = true;
    for (const run of [...this.running.values()]) {
      this.finish(run, CommandState.COMMAND_STATE_FAILED, 'shutdown', 'the agent stopped before the command was confirmed');
    }
  }

  // --- after acceptance ---------------------------------------------------------------------------

  private start(id: string, name: string, args: Record<string, string>): CommandResult {
    const command = this.options.catalog.get(name);
    if (!command) return this.rejectRemembered(id, name, 'unknown_command', `no command ${JSON.stringify(name.slice(0, 64))} in the catalog (${this.options.catalog.names.join(', ')})`);
    let frames: OutgoingFrame[];
    try {
      frames = command.buildFrames(args);
    } catch (error) {
      if (!(error instanceof CommandArgError)) throw error;
      return this.rejectRemembered(id, name, 'bad_args', error.message);
    }
    if (this.running.size >= this.options.config.maxInProgress) {
      return this.rejectRemembered(id, name, 'busy', `${this.running.size} commands in progress (max_in_progress ${this.options.config.maxInProgress})`);
    }
    const group = command.definition.group;
    for (const other of this.running.values()) {
      if (other.command.definition.group === group) return this.rejectRemembered(id, name, 'conflict', `${other.command.name} (${other.id}) of group ${group} is in progress`);
    }
    const { live } = this.options;
    for (const { name: check, condition } of command.preconditions) {
      if (!condition.holds(live)) return this.rejectRemembered(id, name, `unsafe:${check}`, `${condition.text} does not hold (${condition.describe(live)})`);
    }

    let resolve!: (response: CommandResponse) => void;
    const final = new Promise<CommandResponse>((r) => (resolve = r));
    const run: Running = { id, command, finished: false, resolve, final };
    this.running.set(id, run);
    run.timer = setTimeout(() => {
      const confirm = command.confirm;
      const why = confirm ? `${confirm.text} did not hold within ${command.definition.timeoutMs} ms (${confirm.describe(live)})` : 'the frames were not sent in time';
      this.finish(run, CommandState.COMMAND_STATE_TIMEOUT, 'no_confirmation', why);
    }, command.definition.timeoutMs);
    const response = this.encodeResponse(id, CommandState.COMMAND_STATE_IN_PROGRESS, '', `sending ${frames.length} frame${frames.length === 1 ? '' : 's'}`);
    this.emit(response.bytes);
    this.audit.write({ event: 'state', id, name, state: 'IN_PROGRESS' });
    void this.execute(run, frames);
    return { id, response: response.message, final };
  }

  private async execute(run: Running, frames: OutgoingFrame[]): Promise<void> {
    this.audit.write({
      event: 'frames',
      id: run.id,
      frames: frames.map((f) => ({ bus: f.bus, id: f.id, data: Buffer.from(f.data).toString('hex') })),
    });
    try {
      await this.options.driver.send(frames);
    } catch (error) {
      this.finish(run, CommandState.COMMAND_STATE_FAILED, 'send_error', (error as Error).message);
      return;
    }
    if (run.finished) return;
    const confirm = run.command.confirm;
    if (!confirm) {
      this.finish(run, CommandState.COMMAND_STATE_SUCCEEDED, '', 'frames sent (no confirmation configured)');
      return;
    }
    // Only values that arrive after the send count: the state before it says nothing about the command.
    const live = this.options.live;
    run.unsubscribe = live.onUpdate(() => {
      if (!run.finished && confirm.holds(live)) this.finish(run, CommandState.COMMAND_STATE_SUCCEEDED, '', `confirmed: ${confirm.describe(live)}`);
    });
  }

  private finish(run: Running, state: CommandState, reason: string, detail: string): void {
    if (run.finished) return;
    run.finished = true;
    clearTimeout(run.timer);
    run.unsubscribe?.();
    this.running.delete(run.id);
    const response = this.encodeResponse(run.id, state, reason, detail);
    try {
      this.ledger.finish(run.id, response.bytes);
    } catch (error) {
      this.counters.ledgerErrors++;
      this.log('error', `command ${run.id}: cannot remember its result: ${(error as Error).message}`);
    }
    this.count(state, reason);
    this.emit(response.bytes);
    this.audit.write({ event: 'state', id: run.id, name: run.command.name, state: stateName(state), reason, detail });
    run.resolve(response.message);
  }

  /** A rejection after the id was remembered: the result is kept for a repeated id. */
  private rejectRemembered(id: string, name: string, reason: string, detail: string): CommandResult {
    const response = this.encodeResponse(id, CommandState.COMMAND_STATE_REJECTED, reason, detail);
    try {
      this.ledger.finish(id, response.bytes);
    } catch (error) {
      this.counters.ledgerErrors++;
      this.log('error', `command ${id}: cannot remember its result: ${(error as Error).message}`);
    }
    this.count(CommandState.COMMAND_STATE_REJECTED, reason);
    this.emit(response.bytes);
    this.audit.write({ event: 'state', id, name, state: 'REJECTED', reason, detail });
    return { id, response: response.message, final: Promise.resolve(response.message) };
  }

  // --- before acceptance --------------------------------------------------------------------------

  /**
   * The id of a request whose signature did not verify, so that its sender can match the refusal;
   * '' when unreadable or when the id is a remembered command's, so that a forgery can never make a
   * genuine command look refused.
   */
  private unverifiedId(body: Uint8Array | undefined): string {
    if (!body) return '';
    try {
      const { id } = CommandRequest.decode(body);
      return ID_PATTERN.test(id) && !this.ledger.find(id) ? id : '';
    } catch {
      return '';
    }
  }

  private refuse(id: string, reason: string, detail: string, facts: Record<string, unknown> = {}): CommandResult {
    const response = this.encodeResponse(id, CommandState.COMMAND_STATE_REJECTED, reason, detail);
    this.count(CommandState.COMMAND_STATE_REJECTED, reason);
    this.emit(response.bytes);
    this.audit.write({ event: 'refused', id, ...facts, state: 'REJECTED', reason, detail });
    return { id, response: response.message, final: Promise.resolve(response.message) };
  }

  private duplicate(id: string, result: Uint8Array | undefined): CommandResult {
    this.counters.duplicates++;
    const run = this.running.get(id);
    if (result === undefined && run) {
      const response = this.encodeResponse(id, CommandState.COMMAND_STATE_IN_PROGRESS, '', 'already in progress (repeated id)');
      this.emit(response.bytes);
      this.audit.write({ event: 'duplicate', id, state: 'IN_PROGRESS' });
      return { id, response: response.message, final: run.final };
    }
    // Finished (or, should the store have failed, unknown): the first result as it was published.
    const bytes = result ?? this.encode(id, CommandState.COMMAND_STATE_FAILED, 'interrupted', 'the first result of this id was lost');
    const response = CommandResponse.decode(bytes);
    this.emit(bytes);
    this.audit.write({ event: 'duplicate', id, state: stateName(response.state), reason: response.reason });
    return { id, response, final: Promise.resolve(response) };
  }

  // --- output -------------------------------------------------------------------------------------

  private encode(id: string, state: CommandState, reason: string, detail: string): Uint8Array {
    return this.encodeResponse(id, state, reason, detail).bytes;
  }

  private encodeResponse(id: string, state: CommandState, reason: string, detail: string): { message: CommandResponse; bytes: Uint8Array } {
    const properties: ICommandResponse = { id, state, reason, detail, timeMs: this.now() };
    const message = CommandResponse.create(properties);
    return { message, bytes: CommandResponse.encode(message).finish() };
  }

  private emit(bytes: Uint8Array): void {
    let sent: Promise<void> | void;
    try {
      sent = this.options.publish(bytes);
    } catch (error) {
      sent = Promise.reject(error as Error);
    }
    if (sent) {
      sent.catch((error: Error) => {
        this.counters.publishErrors++;
        this.log('warn', `cannot publish a command response: ${error.message}`);
      });
    }
  }

  private count(state: CommandState, reason: string): void {
    if (state === CommandState.COMMAND_STATE_SUCCEEDED) this.counters.succeeded++;
    else if (state === CommandState.COMMAND_STATE_FAILED) this.counters.failed++;
    else if (state === CommandState.COMMAND_STATE_TIMEOUT) this.counters.timedOut++;
    else if (state === CommandState.COMMAND_STATE_REJECTED) this.counters.rejected++;
    if (reason) this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
  }
}

/** What is wrong with a signed request's own fields, if anything. */
function requestProblem(request: CommandRequest): string | undefined {
  if (!ID_PATTERN.test(request.id)) return 'id must be 1-128 printable characters without spaces';
  if (request.name === '' || request.name.length > 64) return 'name must be 1-64 characters';
  if (request.nonce.length < NONCE_MIN_BYTES || request.nonce.length > NONCE_MAX_BYTES) {
    return `nonce has ${request.nonce.length} bytes, wanted ${NONCE_MIN_BYTES}..${NONCE_MAX_BYTES}`;
  }
  if (!(request.issuedAtMs > 0) || !(request.expiresAtMs > request.issuedAtMs)) return 'issued_at_ms and expires_at_ms must be set, expiry after issue';
  return undefined;
}

/** `SUCCEEDED` for COMMAND_STATE_SUCCEEDED. */
export function stateName(state: CommandState): string {
  return (CommandState[state] as unknown as string | undefined)?.replace('COMMAND_STATE_', '') ?? String(state);
}
