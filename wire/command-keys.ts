/**
 * Ed25519 keys of the backend: parsing the public keys of the config, checking a signature over a
 * serialised request, and generating / loading key pairs for the CLI (node:crypto only).
 *
 * A public key is written as PEM (SPKI), as one line of base64 of the SPKI DER (44 bytes), or as
 * base64 of the raw 32-byte key. Signatures are plain Ed25519 (`crypto.sign(null, ...)`) over the
 * exact bytes carried in SignedCommand.request / SignedRulesUpdate.update.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the raw 32-byte key follows. */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const RAW_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

export type KeyUse = 'commands' | 'rules';
export const KEY_USES: readonly KeyUse[] = ['commands', 'rules'];

/** Parses a public key in any of the accepted forms; throws an Error saying why not. */
export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  if (trimmed.startsWith('-----BEGIN')) {
    // createPublicKey would derive the public half of a private key: refuse it, it must not be on a vehicle.
    if (/PRIVATE KEY-----/.test(trimmed)) throw new Error('is a private key: configure the public key (.pub.pem), never the private one');
    try {
      key = createPublicKey(trimmed);
    } catch (error) {
      throw new Error(`not a PEM public key: ${(error as Error).message}`);
    }
  } else {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) throw new Error('must be PEM or base64 (raw 32-byte key or SPKI DER)');
    const bytes = Buffer.from(trimmed, 'base64');
    const der = bytes.length === RAW_KEY_BYTES ? Buffer.concat([SPKI_ED25519_PREFIX, bytes]) : bytes;
    try {
      key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    } catch {
      throw new Error(`base64 of ${bytes.length} bytes is neither a raw 32-byte Ed25519 key nor an SPKI DER key`);
    }
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`is a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
  return key;
}

/** Base64 of the raw 32-byte public key: the one-line form for the config. */
export function rawPublicKeyBase64(key: KeyObject): string {
  const der = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - RAW_KEY_BYTES).toString('base64');
}

export function generateKeyPair(): { privateKeyPem: string; publicKeyPem: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    publicKey,
  };
}

/** An Ed25519 private key from PEM (PKCS#8); throws naming the problem. */
export function parsePrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new Error(`not a PEM private key: ${(error as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`is a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
  return key;
}

export function signBytes(privateKey: KeyObject, bytes: Uint8Array): Uint8Array {
  return sign(null, bytes, privateKey);
}

export interface TrustedKey {
  id: string;
  key: KeyObject;
  use: readonly KeyUse[];
}

export type Verdict = { ok: true } | { ok: false; reason: 'unsigned' | 'unknown_key' | 'key_not_allowed' | 'bad_signature'; detail: string };

/** The configured public keys by id. */
export class Keyring {
  private readonly keys = new Map<string, TrustedKey>();

  constructor(keys: readonly { id: string; publicKey: string; use?: readonly KeyUse[] }[]) {
    for (const k of keys) this.keys.set(k.id, { id: k.id, key: parsePublicKey(k.publicKey), use: k.use ?? KEY_USES });
  }

  get size(): number {
    return this.keys.size;
  }

  /** Checks `signature` over `body` with key `keyId`, which must be allowed for `use`. */
  verify(keyId: string, body: Uint8Array, signature: Uint8Array, use: KeyUse): Verdict {
    if (signature.length === 0 || keyId === '') return { ok: false, reason: 'unsigned', detail: 'no signature or no key id' };
    const trusted = this.keys.get(keyId);
    if (!trusted) return { ok: false, reason: 'unknown_key', detail: `key id ${JSON.stringify(keyId.slice(0, 64))} is not configured` };
    if (!trusted.use.includes(use)) return { ok: false, reason: 'key_not_allowed', detail: `key ${keyId} is not allowed to sign ${use}` };
    if (signature.length !== SIGNATURE_BYTES || !verify(null, body, trusted.key, signature)) {
      return { ok: false, reason: 'bad_signature', detail: `signature does not verify with key ${keyId}` };
    }
    return { ok: true };
  }
}
