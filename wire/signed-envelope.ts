/**
 * Opening a signed envelope (SignedCommand, SignedRulesUpdate): decode it, check the signature over
 * the carried bytes with the keyring, and only then decode those bytes. Anything that is not a
 * well-formed, correctly signed message comes back as a refusal with a machine-readable reason.
 */
import { CommandRequest, RulesUpdate, SignedCommand, SignedRulesUpdate } from '../proto/gen/roadlink.js';
import type { Keyring, KeyUse } from './command-keys.js';

interface Envelope {
  body: Uint8Array;
  signature: Uint8Array;
  keyId: string;
}

/** One kind of signed message: its names (for details), the key use it needs, and its decoders. */
interface EnvelopeKind<T> {
  envelope: string;
  body: string;
  use: KeyUse;
  open(bytes: Uint8Array): Envelope;
  decode(body: Uint8Array): T;
}

export const SIGNED_COMMAND: EnvelopeKind<CommandRequest> = {
  envelope: 'SignedCommand',
  body: 'CommandRequest',
  use: 'commands',
  open(bytes) {
    const e = SignedCommand.decode(bytes);
    return { body: e.request, signature: e.signature, keyId: e.keyId };
  },
  decode: (body) => CommandRequest.decode(body),
};

export const SIGNED_RULES_UPDATE: EnvelopeKind<RulesUpdate> = {
  envelope: 'SignedRulesUpdate',
  body: 'RulesUpdate',
  use: 'rules',
  open(bytes) {
    const e = SignedRulesUpdate.decode(bytes);
    return { body: e.update, signature: e.signature, keyId: e.keyId };
  },
  decode: (body) => RulesUpdate.decode(body),
};

export type Opened<T> =
  | { ok: true; message: T; keyId: string }
  | { ok: false; reason: string; detail: string; keyId?: string; /** The unverified body, when the envelope was readable. */ body?: Uint8Array };

export function openEnvelope<T>(bytes: Uint8Array, kind: EnvelopeKind<T>, keyring: Keyring): Opened<T> {
  let envelope: Envelope;
  try {
    envelope = kind.open(bytes);
  } catch (error) {
    return { ok: false, reason: 'malformed', detail: `not a ${kind.envelope}: ${(error as Error).message}` };
  }
  if (envelope.body.length === 0) return { ok: false, reason: 'malformed', detail: `${kind.envelope} carries no ${kind.body}` };
  const verdict = keyring.verify(envelope.keyId, envelope.body, envelope.signature, kind.use);
  if (!verdict.ok) return { ...verdict, keyId: envelope.keyId, body: envelope.body };
  try {
    return { ok: true, message: kind.decode(envelope.body), keyId: envelope.keyId };
  } catch (error) {
    // Signed by a trusted key yet unreadable: a backend bug or a schema mismatch, not an attack.
    return { ok: false, reason: 'malformed', detail: `signed bytes are not a ${kind.body}: ${(error as Error).message}`, keyId: envelope.keyId };
  }
}
