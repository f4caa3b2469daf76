/**
 * Opening a signed envelope (SignedCommand, SignedRulesUpdate): decode it, check the signature over
 * the carried bytes with the keyring, and only then decode those bytes. Anything that is not a
 * well-formed, correctly signed message comes back as a refusal with a machine-readable reason.
 */
import type { Keyring, KeyUse } from './command-keys.js';

export interface Envelope {
  body: Uint8Array;
  signature: Uint8Array;
  keyId: string;
}

export type Opened<T> =
  | { ok: true; message: T; keyId: string }
  | { ok: false; reason: string; detail: string; keyId?: string; /** The unverified body, when the envelope was readable. */ body?: Uint8Array };

export function openEnvelope<T>(
  bytes: Uint8Array,
  what: { envelope: string; body: string },
  decodeEnvelope: (bytes: Uint8Array) => Envelope,
  decodeBody: (bytes: Uint8Array) => T,
  keyring: Keyring,
  use: KeyUse,
): Opened<T> {
  let envelope: Envelope;
  try {
    envelope = decodeEnvelope(bytes);
  } catch (error) {
    return { ok: false, reason: 'malformed', detail: `not a ${what.envelope}: ${(error as Error).message}` };
  }
  if (envelope.body.length === 0) return { ok: false, reason: 'malformed', detail: `${what.envelope} carries no ${what.body}` };
  const verdict = keyring.verify(envelope.keyId, envelope.body, envelope.signature, use);
  if (!verdict.ok) return { ...verdict, keyId: envelope.keyId, body: envelope.body };
  try {
    return { ok: true, message: decodeBody(envelope.body), keyId: envelope.keyId };
  } catch (error) {
    // Signed by a trusted key yet unreadable: a backend bug or a schema mismatch, not an attack.
    return { ok: false, reason: 'malformed', detail: `signed bytes are not a ${what.body}: ${(error as Error).message}`, keyId: envelope.keyId };
  }
}
