import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runKeys } from '../../apps/cli/keys.js';
import { loadSigningKey, signCommand } from '../../backend/command-client.js';
import { Keyring } from '../../wire/command-keys.js';
import { SignedCommand } from '../../proto/gen/roadlink.js';
import { Capture } from './fixtures.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function run(argv: string[]) {
  const stdout = new Capture();
  const stderr = new Capture();
  return runKeys(argv, { stdout, stderr }).then((code) => ({ code, stdout: stdout.text, stderr: stderr.text }));
}

describe('roadlink keys generate', () => {
  it('writes a key pair whose printed config line verifies what the private key signs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roadlink-keys-'));
    dirs.push(dir);
    const out = join(dir, 'nested', 'keys');
    const { code, stdout } = await run(['generate', '--out', out, '--name', 'fleet-ops']);
    expect(code).toBe(0);
    expect(stdout).toContain('key id: fleet-ops');
    expect(statSync(join(out, 'fleet-ops.key.pem')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(out, 'fleet-ops.pub.pem'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const line = /- \{ id: (\S+), public_key: "([^"]+)" \}/.exec(stdout)!;
    const keyring = new Keyring([{ id: line[1], publicKey: line[2] }]);
    const signed = SignedCommand.decode(signCommand({ vin: 'VF3ABCDEFGH123456', name: 'horn' }, loadSigningKey(join(out, 'fleet-ops.key.pem'))).bytes);
    expect(signed.keyId).toBe('fleet-ops');
    expect(keyring.verify(signed.keyId, signed.request, signed.signature, 'commands')).toEqual({ ok: true });
  });

  it('does not overwrite keys without --force, and refuses bad input with status 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roadlink-keys-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'roadlink-backend.key.pem'), 'precious');
    const again = await run(['generate', '--out', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists (use --force to overwrite)');
    expect(readFileSync(join(dir, 'roadlink-backend.key.pem'), 'utf8')).toBe('precious');
    expect((await run(['generate', '--out', dir, '--force'])).code).toBe(0);
    expect(readFileSync(join(dir, 'roadlink-backend.key.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect((await run(['generate'])).stderr).toContain('--out DIR is required');
    expect((await run(['rotate', '--out', dir])).stderr).toContain("unknown subcommand 'rotate'");
    expect((await run(['generate', '--out', dir, '--name', 'a b'])).code).toBe(2);
  });
});
