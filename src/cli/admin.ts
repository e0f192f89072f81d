#!/usr/bin/env node
/**
 * Troubleshooting CLI: `npm run admin -- <command>` (docs/troubleshooting.md).
 *
 *   clients                  registered clients (id, name, auth method, redirect URIs, created, expires)
 *   token show <value|->     the access or refresh record a token value points to
 *   token revoke <value|->   revokes it; a refresh token ends its whole grant (like POST /revoke)
 *   sessions <subject>       that subject's 2025-era MCP sessions
 *   purge --yes              deletes every auth:* key (every client must register and sign in again)
 *   keys [pattern]           keys matching a glob (`*`), with their TTL
 *
 * Where the state is:
 * - `REDIS_URL` set (environment or .env): the CLI talks to Redis itself.
 * - `--url http://127.0.0.1:3232`: memory mode. The state lives inside the
 *   server process, so the CLI asks that server, through its loopback-only
 *   admin endpoint (src/cli/admin-endpoint.ts), enabled by starting the
 *   server with `ADMIN_TOKEN`; the CLI sends the same `ADMIN_TOKEN`.
 * - neither: the CLI explains the above and exits 2.
 *
 * A token value given as `-` is read from standard input (keeps it out of
 * shell history and `ps`). Output is text; `--json` prints the raw result.
 * Exit codes: 0 done, 1 not found, 2 usage, 3 storage or server unreachable.
 */
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { redisStoreOptions } from '../store/index.js';
import { RedisStore } from '../store/redis.js';
import { ADMIN_PATH } from './admin-endpoint.js';
import { AdminOperations, AdminUsageError, type AdminCommand, type AdminCommands, type ClientSummary, type ShowTokenResult } from './operations.js';

export const USAGE = `Usage: npm run admin -- [--url <server>] [--json] <command>

Commands:
  clients                 list registered clients
  token show <value|->    show the access or refresh token record (- reads the value from stdin)
  token revoke <value|->  revoke it; a refresh token ends its whole grant, like POST /revoke
  sessions <subject>      list that subject's MCP sessions (2025-era Mcp-Session-Id)
  purge --yes             delete every auth:* key (clients, codes, grants, tokens)
  keys [pattern]          list keys matching a glob (* only), default *

Storage:
  REDIS_URL set           the CLI talks to Redis directly (REDIS_TLS, REDIS_PASSWORD honoured;
                          REDIS_CLUSTER_NODES for a Redis Cluster)
  --url <server>          memory mode: ask the running server (started with ADMIN_TOKEN=...),
                          over loopback only; the CLI sends ADMIN_TOKEN from its environment
`;

export const MEMORY_MODE_HELP = `REDIS_URL is not set, so this server keeps its state (clients, tokens, sessions)
in the memory of the server process: nothing outside that process can read it.

Either
  - run the server with Redis (REDIS_URL=redis://localhost:6379) and run this CLI with the same REDIS_URL, or
  - start the server with an admin token and point the CLI at it (loopback only):
      export ADMIN_TOKEN=$(openssl rand -base64 32)
      npm run dev                                   # same shell: the server sees ADMIN_TOKEN
      npm run admin -- --url http://127.0.0.1:3232 clients
Without either: GET /ready shows the storage in use, and clients revoke their
own tokens with POST /revoke (see docs/troubleshooting.md).`;

export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** Standard input, for `-` values. */
  readStdin?: () => Promise<string>;
}

/** Runs one command; one implementation for Redis (direct) and memory mode (the admin endpoint). */
interface Backend {
  run<C extends AdminCommand>(command: C, args: AdminCommands[C]['args']): Promise<AdminCommands[C]['result']>;
  close(): Promise<void>;
  describe: string;
}

class Unreachable extends Error {}

async function redisBackend(env: CliIo['env']): Promise<Backend> {
  const config = loadConfig({ ...env, LOG_LEVEL: 'silent' });
  const redis = config.redis!;
  // Audit lines (revocations, purge) go to stderr, at warn unless LOG_LEVEL asks for more.
  const logger = createLogger(['debug', 'trace', 'info'].includes(env.LOG_LEVEL ?? '') ? env.LOG_LEVEL! : 'warn', { write: (s: string) => void process.stderr.write(s) });
  const store = new RedisStore({ ...redisStoreOptions(redis, createLogger('silent')), commandTimeoutMs: 3000, maxReconnectDelayMs: 500 });
  const connected = store.connect();
  connected.catch(() => undefined);
  const outcome = await Promise.race([connected.then(() => 'ok' as const, (err: unknown) => err), new Promise(r => setTimeout(r, 5000, 'timeout').unref())]);
  if (outcome !== 'ok') {
    await store.close();
    throw new Unreachable(`cannot reach Redis at ${store.url} (${outcome === 'timeout' ? 'no answer within 5 s' : String(outcome)}). Is redis-server running? Check ${store.topology === 'cluster' ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL'}, REDIS_PASSWORD, REDIS_TLS.`);
  }
  const ops = new AdminOperations(store, logger);
  return { run: (c, a) => ops.run(c, a), close: () => store.close(), describe: `redis ${store.url}` };
}

function httpBackend(server: string, token: string | undefined): Backend {
  let base: URL;
  try {
    base = new URL(server);
  } catch {
    throw new AdminUsageError(`--url ${JSON.stringify(server)} is not a URL (e.g. http://127.0.0.1:3232)`);
  }
  if (!token) throw new AdminUsageError('--url needs ADMIN_TOKEN in the environment: the same value the server was started with.');
  return {
    describe: `server ${base.origin}`,
    close: async () => undefined,
    async run(command, args) {
      let res: Response;
      try {
        res = await fetch(new URL(`${ADMIN_PATH}/${command}`, base), {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(args),
          signal: AbortSignal.timeout(10_000)
        });
      } catch (err) {
        throw new Unreachable(`cannot reach ${base.origin} (${(err as Error).cause ? String((err as Error).cause) : (err as Error).message}). Is the server running?`);
      }
      const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      if (res.ok) return body as never;
      if (res.status === 404) {
        throw new Unreachable(
          `${base.origin} has no admin endpoint for this request: start the server with ADMIN_TOKEN set, and call it directly over loopback (127.0.0.1 / ::1), not through a proxy.`
        );
      }
      if (res.status === 401) throw new Unreachable(`${base.origin} refused the admin token: ADMIN_TOKEN must be the value the server was started with.`);
      if (res.status === 400) throw new AdminUsageError(String(body.error_description ?? 'invalid request'));
      throw new Unreachable(`${base.origin} answered HTTP ${res.status}: ${String(body.error_description ?? body.error ?? '')}`);
    }
  };
}

const ago = (isoDate: string, now: number) => {
  const ms = Date.parse(isoDate) - now;
  const abs = Math.abs(ms);
  const unit = abs >= 86_400_000 ? [86_400_000, 'd'] : abs >= 3_600_000 ? [3_600_000, 'h'] : abs >= 60_000 ? [60_000, 'min'] : [1000, 's'];
  const n = Math.round(abs / (unit[0] as number));
  return ms >= 0 ? `in ${n} ${unit[1]}` : `${n} ${unit[1]} ago`;
};

function formatClients(clients: ClientSummary[], now: number): string[] {
  if (clients.length === 0) return ['No registered clients.'];
  const lines = [`${clients.length} client(s):`];
  for (const c of clients) {
    lines.push('');
    lines.push(`  ${c.clientId}${c.name ? `  "${c.name}"` : ''}`);
    lines.push(`    auth method:    ${c.authMethod}${c.source === 'metadata_document' ? '  (client ID metadata document)' : ''}`);
    lines.push(`    redirect URIs:  ${c.redirectUris.join(', ')}`);
    lines.push(`    grant types:    ${c.grantTypes.join(', ')}`);
    lines.push(`    created:        ${c.created} (${ago(c.created, now)})`);
    lines.push(`    expires:        ${c.expires ? `${c.expires} (${ago(c.expires, now)})` : 'unknown'}`);
    if (c.secretExpires) lines.push(`    secret expires: ${c.secretExpires}`);
  }
  return lines;
}

function formatToken(t: ShowTokenResult, now: number): string[] {
  if (!t.found) {
    return [
      `No access or refresh token with this value (hash ${t.hash}).`,
      t.wellFormed ? 'It may have expired, been revoked, or belong to another storage.' : 'It does not look like a token this server issues (43 base64url characters).'
    ];
  }
  return [
    `${t.kind === 'access_token' ? 'Access token' : 'Refresh token'}: ${t.active ? 'ACTIVE' : 'INACTIVE'}`,
    `  key:       ${t.key}`,
    `  subject:   ${t.subject}`,
    `  client:    ${t.clientId}`,
    `  scopes:    ${t.scopes.join(' ') || '(none)'}`,
    `  resource:  ${t.resource}`,
    `  issued:    ${t.issued} (${ago(t.issued, now)})`,
    `  expires:   ${t.expires} (${ago(t.expires, now)})`,
    `  grant:     ${t.grantId} ${t.grant ? `(consent ${t.grant.created}, ends ${t.grant.expires})` : '(GONE: revoked or expired)'}`,
    ...(t.rotated ? [`  rotated:   ${t.rotated} (used once; presenting it again after the grace period ends the grant)`] : [])
  ];
}

async function readValue(raw: string | undefined, io: CliIo, what: string): Promise<string> {
  if (raw === undefined) throw new AdminUsageError(`${what}: give the token value, or - to read it from standard input`);
  if (raw !== '-') return raw;
  const text = io.readStdin ? await io.readStdin() : readFileSync(0, 'utf8');
  return text.trim();
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  // Token values are base64url and may start with "-": take the operand after
  // `token show|revoke` and `sessions` verbatim, before option parsing sees it.
  const verbatim: string[] = [];
  const rest = [...argv];
  for (let i = 0; i < rest.length - 1; i++) {
    const operandAt = rest[i] === 'token' && (rest[i + 1] === 'show' || rest[i + 1] === 'revoke') ? i + 2 : rest[i] === 'sessions' ? i + 1 : -1;
    if (operandAt === -1) continue;
    if (rest[operandAt] === '--') rest.splice(operandAt, 1);
    if (operandAt < rest.length) verbatim.push(...rest.splice(operandAt, 1));
    break;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { url: { type: 'string' }, json: { type: 'boolean' }, yes: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }
    });
  } catch (err) {
    io.stderr(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values } = parsed;
  const positionals = [...parsed.positionals, ...verbatim];
  const [first, second, third] = positionals;
  if (values.help || !first) {
    (values.help ? io.stdout : io.stderr)(USAGE);
    return values.help ? 0 : 2;
  }

  let command: AdminCommand;
  let args: Record<string, unknown> = {};
  try {
    if (first === 'clients') command = 'clients';
    else if (first === 'token' && (second === 'show' || second === 'revoke')) {
      command = second === 'show' ? 'token-show' : 'token-revoke';
      args = { value: await readValue(third, io, `token ${second}`) };
    } else if (first === 'sessions') {
      if (!second) throw new AdminUsageError('sessions: give the subject (e.g. the "sub" a token shows, or whoami reports)');
      command = 'sessions';
      args = { subject: second };
    } else if (first === 'purge') {
      if (!values.yes) {
        io.stderr('purge deletes every auth:* key: all registered clients, pending authorizations, grants and tokens. Every client must register and sign in again.\nRun again with --yes to do it.');
        return 2;
      }
      command = 'purge';
    } else if (first === 'keys') {
      command = 'keys';
      args = second ? { pattern: second } : {};
    } else throw new AdminUsageError(`unknown command: ${positionals.join(' ')}`);
  } catch (err) {
    io.stderr(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }

  const env = io.env;
  let backend: Backend;
  try {
    if (values.url) backend = httpBackend(values.url, env.ADMIN_TOKEN);
    else if (env.REDIS_URL || env.REDIS_CLUSTER_NODES) backend = await redisBackend(env);
    else {
      io.stderr(MEMORY_MODE_HELP);
      return 2;
    }
  } catch (err) {
    if (err instanceof ConfigError || err instanceof AdminUsageError) {
      io.stderr(err.message);
      return 2;
    }
    if (err instanceof Unreachable) {
      io.stderr(err.message);
      return 3;
    }
    throw err;
  }

  try {
    const result = await backend.run(command, args as never);
    const now = Date.now();
    if (values.json) {
      io.stdout(JSON.stringify(result, null, 2));
    } else {
      for (const line of format(command, result, now, backend.describe)) io.stdout(line);
    }
    if (command === 'token-show' && !(result as ShowTokenResult).found) return 1;
    if (command === 'token-revoke' && !(result as AdminCommands['token-revoke']['result']).revoked) return 1;
    return 0;
  } catch (err) {
    if (err instanceof AdminUsageError) {
      io.stderr(err.message);
      return 2;
    }
    if (err instanceof Unreachable || (err as Error).name === 'StoreUnavailableError') {
      io.stderr((err as Error).message);
      return 3;
    }
    throw err;
  } finally {
    await backend.close();
  }
}

function format(command: AdminCommand, result: unknown, now: number, where: string): string[] {
  switch (command) {
    case 'clients':
      return formatClients((result as AdminCommands['clients']['result']).clients, now);
    case 'token-show':
      return formatToken(result as ShowTokenResult, now);
    case 'token-revoke': {
      const r = result as AdminCommands['token-revoke']['result'];
      if (!r.revoked) return [`Nothing to revoke: no access or refresh token with this value (hash ${r.hash}).`];
      return r.grantEnded
        ? [`Revoked refresh token of ${r.subject} (client ${r.clientId}).`, `Grant ${r.grantId} ended: every access and refresh token issued from that consent is now invalid.`]
        : [`Revoked access token of ${r.subject} (client ${r.clientId}). Its grant ${r.grantId} and refresh token are untouched.`];
    }
    case 'sessions': {
      const r = result as AdminCommands['sessions']['result'];
      if (r.sessions.length === 0) return [`No MCP sessions owned by ${JSON.stringify(r.subject)}.`];
      return [
        `${r.sessions.length} MCP session(s) owned by ${JSON.stringify(r.subject)}:`,
        ...r.sessions.map(
          s =>
            `  ${s.sessionId}${s.instance?.kind ? `  ${s.instance.kind}` : ''}${s.instance?.url ? ` on ${s.instance.url}` : ''}${s.ttlMs !== undefined ? `  (idle expiry in ${Math.round(s.ttlMs / 1000)} s)` : ''}`
        )
      ];
    }
    case 'purge':
      return [`Purged ${(result as AdminCommands['purge']['result']).deleted} auth:* key(s) from ${where}.`];
    case 'keys': {
      const r = result as AdminCommands['keys']['result'];
      const lines = r.keys.map(k => `${k.key}${k.ttlMs !== undefined ? `  (ttl ${Math.round(k.ttlMs / 1000)} s)` : ''}`);
      lines.push(`${r.keys.length} key(s) matching ${JSON.stringify(r.pattern)}${r.truncated ? ' (truncated)' : ''}.`);
      return lines;
    }
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  if (existsSync('.env')) process.loadEnvFile('.env');
  main(process.argv.slice(2), {
    env: process.env,
    stdout: line => void process.stdout.write(`${line}\n`),
    stderr: line => void process.stderr.write(`${line}\n`)
  }).then(
    code => process.exit(code),
    err => {
      process.stderr.write(`admin: ${(err as Error).message}\n`);
      process.exit(1);
    }
  );
}
