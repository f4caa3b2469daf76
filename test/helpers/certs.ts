/**
 * Test PKI made with the openssl command: a CA, a server certificate for 127.0.0.1/localhost and
 * client certificates whose CN is the given name (a VIN, or the backend's identity). EC P-256 keys,
 * valid for two days.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertPair {
  certFile: string;
  keyFile: string;
}

export interface TestPki {
  dir: string;
  caFile: string;
  server: CertPair;
  clients: Record<string, CertPair>;
  dispose(): void;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`openssl ${args.join(' ')} failed (is openssl installed? apt-get install openssl): ${e.stderr?.toString() ?? e.message}`);
  }
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Signs a new key's certificate for `cn` with the CA; `ext` is the v3 extension section. */
function issue(dir: string, name: string, cn: string, ext: string): CertPair {
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, `${ext}\n`);
  openssl(['req', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, '-extfile', extFile], dir);
  return { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
}

/** Creates the CA, the server certificate and one client certificate per common name. */
export function makeTestPki(clientNames: string[]): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'roadlink-pki-'));
  openssl(['req', '-x509', ...KEY, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=roadlink test CA'], dir);
  const server = issue(dir, 'server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth');
  const clients: Record<string, CertPair> = {};
  clientNames.forEach((cn, i) => {
    clients[cn] = issue(dir, `client${i}`, cn, 'extendedKeyUsage=clientAuth');
  });
  return { dir, caFile: join(dir, 'ca.crt'), server, clients, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
