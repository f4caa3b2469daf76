/**
 * `roadlink keys generate`: an Ed25519 key pair for signing remote commands and rules updates.
 * The private key stays with the backend (mode 0600); the printed config line goes under
 * commands.keys of the vehicle's config.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { generateKeyPair, rawPublicKeyBase64 } from '../../wire/command-keys.js';

export const usage = `usage: roadlink keys generate --out DIR [--name NAME] [--force]

Writes an Ed25519 key pair for signing remote commands and rules updates:
  DIR/NAME.key.pem   private key (PKCS#8 PEM, mode 0600): keep it with the backend
  DIR/NAME.pub.pem   public key (SPKI PEM)
and prints the key id (NAME) and the line to add under commands.keys in the vehicle's config.
\`roadlink command send --key DIR/NAME.key.pem\` signs with key id NAME.

options:
  --out DIR      folder for the two files (created when missing; required)
  --name NAME    key id and file name (default roadlink-backend)
  --force        overwrite existing files
  -h, --help     this help
`;

export interface KeysIo {
  stdout: Writable;
  stderr: Writable;
}

export async function runKeys(argv: string[], io: KeysIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const fail = (message: string): number => {
    io.stderr.write(`roadlink keys: ${message}\n(roadlink keys --help for usage)\n`);
    return 2;
  };
  let values: { out?: string; name?: string; force?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { out: { type: 'string' }, name: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    return fail((error as Error).message);
  }
  if (values.help) {
    io.stdout.write(usage);
    return 0;
  }
  if (positionals[0] !== 'generate' || positionals.length > 1) return fail(positionals.length === 0 ? 'missing subcommand (generate)' : `unknown subcommand '${positionals.join(' ')}'`);
  if (!values.out) return fail('--out DIR is required');
  const name = values.name ?? 'roadlink-backend';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) return fail(`--name must be 1-64 letters, digits, _, . or -, got '${name}'`);

  const dir = resolve(values.out);
  const privatePath = join(dir, `${name}.key.pem`);
  const publicPath = join(dir, `${name}.pub.pem`);
  for (const path of [privatePath, publicPath]) {
    if (existsSync(path) && !values.force) return fail(`${path} exists (use --force to overwrite)`);
  }
  const pair = generateKeyPair();
  mkdirSync(dir, { recursive: true });
  writeFileSync(privatePath, pair.privateKeyPem, { mode: 0o600 });
  chmodSync(privatePath, 0o600); // an overwritten file keeps its old mode otherwise
  writeFileSync(publicPath, pair.publicKeyPem);
  const raw = rawPublicKeyBase64(pair.publicKey);
  io.stdout.write(
    `key id: ${name}\nprivate key: ${privatePath}\npublic key: ${publicPath}\n` +
      `config line (under commands.keys):\n  - { id: ${name}, public_key: "${raw}" }\n`,
  );
  return 0;
}
