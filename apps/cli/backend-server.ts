/**
 * `roadlink backend` as the server: ingest into a database, the Web API, remote actions, monitors
 * and webhooks (backend/api/backend-service.ts); `--create-key` makes an API key and prints its
 * token once.
 */
import { parseArgs } from 'node:util';
import { loadSigningKey } from '../../backend/command-client.js';
import { createApiKey, parseScopes } from '../../backend/api/auth.js';
import { BackendService } from '../../backend/api/backend-service.js';
import { openStore } from '../../backend/db/open-store.js';
import { BROKER_ARGS, BROKER_ARGS_USAGE, brokerOptionsFromArgs } from '../../wire/broker-options.js';
import { parseCommandLine, UsageError, type CliIo } from './cli-options.js';

export const DEFAULT_DB = 'roadlink-backend.sqlite';
export const DEFAULT_LISTEN = '127.0.0.1:8080';

export const serverUsage = `usage: roadlink backend [--db postgres://... | FILE.sqlite] [--broker URL] [--listen HOST:PORT] [--key FILE]
       roadlink backend --create-key NAME --scope read[,remote] [--vins VIN,VIN...] [--db ...]
       roadlink backend receive --broker URL [--out FILE] ...   (the JSON-lines receiver, see receive --help)

The backend: an ingest worker stores every vehicle's uploads in the database, the Web API serves
them (OpenAPI document at /openapi.json; bearer API keys), remote actions and geofence monitors
reach the vehicles as signed commands and rules updates, and monitor transitions are delivered to
their callback URLs.

options:
  --db LOCATION       postgres://user@host/db, or a SQLite file (default ${DEFAULT_DB})
${BROKER_ARGS_USAGE.replace('(required)', '(without it: the API over the database only)')}  --listen HOST:PORT  where the API listens (default ${DEFAULT_LISTEN}; port 0: any free port)
  --key FILE          Ed25519 private key signing commands and rules updates (roadlink keys generate);
                      without it remote actions and monitors answer 503
  --key-id ID         key id the vehicles know it by (default: the file name without .key.pem)
  --client-id ID      base of the ingest worker's MQTT client ids (default roadlink-backend-ingest)
  --create-key NAME   create an API key, print its token once, and exit
  --scope LIST        with --create-key: read, remote or read,remote
  --vins LIST         with --create-key: the vehicles it may see (default: all)
  -h, --help          this help
`;

function parseListen(text: string): { host: string; port: number } {
  const match = /^(.*):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || !match[1] || port > 65535) throw new UsageError(`--listen wants HOST:PORT (like ${DEFAULT_LISTEN}), got '${text}'`);
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
}

function parseOptions(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...BROKER_ARGS,
      db: { type: 'string' },
      listen: { type: 'string' },
      key: { type: 'string' },
      'key-id': { type: 'string' },
      'client-id': { type: 'string' },
      'create-key': { type: 'string' },
      scope: { type: 'string' },
      vins: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help' as const;
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const db = values.db ?? DEFAULT_DB;
  if (values['create-key'] !== undefined) {
    if (!values.scope) throw new UsageError('--create-key needs --scope read, remote or read,remote');
    let scopes;
    try {
      scopes = parseScopes(values.scope);
    } catch (error) {
      throw new UsageError(`--scope: ${(error as Error).message}`);
    }
    const vins = values.vins?.split(',').map((v) => v.trim()).filter((v) => v !== '');
    return { mode: 'create-key' as const, db, name: values['create-key'], scopes, vins };
  }
  if (values.scope || values.vins) throw new UsageError('--scope and --vins go with --create-key');
  return {
    mode: 'serve' as const,
    db,
    broker: brokerOptionsFromArgs(values),
    listen: parseListen(values.listen ?? DEFAULT_LISTEN),
    keyFile: values.key,
    keyId: values['key-id'],
    clientId: values['client-id'],
  };
}

export interface ServerIo extends CliIo {
  signal?: AbortSignal;
  /** Told the service once it listens (tests, the demo). */
  onStarted?: (service: BackendService) => void;
}

export async function runBackendServer(argv: string[], io: ServerIo): Promise<number> {
  const parsed = parseCommandLine('backend', serverUsage, () => parseOptions(argv), io);
  if ('exitCode' in parsed) return parsed.exitCode;
  const options = parsed.options;

  if (options.mode === 'create-key') {
    const store = await openStore(options.db);
    try {
      const { record, token } = await createApiKey(store, { name: options.name, scopes: options.scopes, vins: options.vins });
      io.stderr.write(`created API key ${record.id} '${record.name}' (scopes ${options.scopes.join(',')}; vehicles ${options.vins?.join(',') ?? 'all'}) in ${options.db}; the token is shown only now:\n`);
      io.stdout.write(`${token}\n`);
      return 0;
    } finally {
      await store.close();
    }
  }

  let key;
  if (options.keyFile) {
    try {
      key = loadSigningKey(options.keyFile, options.keyId);
    } catch (error) {
      io.stderr.write(`roadlink backend: ${(error as Error).message}\n`);
      return 2;
    }
  }
  const service = await BackendService.start({
    db: options.db,
    broker: options.broker,
    key,
    host: options.listen.host,
    port: options.listen.port,
    ingestClientId: options.clientId,
    log: (level, message) => level !== 'info' && io.stderr.write(`${level}: ${message}\n`),
  });
  io.stderr.write(
    `roadlink backend: API at ${service.url} (OpenAPI: ${service.url}/openapi.json), database ${options.db}` +
      `${options.broker ? `, ingesting from ${options.broker.url}` : ', no broker (API only)'}` +
      `${key ? `, remote actions signed as '${key.keyId}'` : ', no signing key (remote actions and monitors off)'}\n`,
  );
  io.onStarted?.(service);
  await new Promise<void>((resolve) => {
    if (io.signal?.aborted) resolve();
    io.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  await service.stop();
  return 0;
}
