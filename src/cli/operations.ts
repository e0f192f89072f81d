/**
 * The troubleshooting operations behind `npm run admin` (src/cli/admin.ts),
 * written once over the `Store` seam so that they behave the same:
 *
 * - against Redis, run by the CLI process itself (`REDIS_URL` set);
 * - against a running server's memory, run inside that server by the
 *   loopback-only admin endpoint (./admin-endpoint.ts) the CLI calls with
 *   `--url`.
 *
 * Keys hold SHA-256 hashes of secrets (docs/storage-schema.md), so every
 * lookup "by value" hashes the value first with the AS's own `sha256`, and
 * revocation reuses the AS's own `revokeGrant` / `revokeAccessToken`: the CLI
 * ends exactly what `POST /revoke` would (a refresh token ends its grant).
 *
 * Results are plain JSON (they travel over HTTP in memory mode) and never
 * contain a token, code or secret value: only hashes, ids and metadata.
 */
import { sha256 } from '../auth/crypto.js';
import { looksLikeToken, revokeAccessToken, revokeGrant } from '../auth/grants.js';
import { createRecords, type Records, type TokenRecord } from '../auth/records.js';
import type { Logger } from '../logger.js';
import { instanceKey, ownerKey, sessionIdOfOwnerKey } from '../mcp/http/sessions.js';
import type { Store } from '../store/store.js';

export interface ClientSummary {
  clientId: string;
  name?: string;
  authMethod: string;
  redirectUris: string[];
  grantTypes: string[];
  scope?: string;
  source: 'dynamic_registration' | 'metadata_document';
  /** ISO date of registration (or of the metadata document fetch). */
  created: string;
  /** ISO date the record leaves storage (registration TTL), or undefined when unknown. */
  expires?: string;
  /** ISO date the client secret expires; undefined when there is no secret or it never expires. */
  secretExpires?: string;
}

export interface TokenView {
  kind: 'access_token' | 'refresh_token';
  /** The storage key: `auth:installation:{hash}` or `auth:refresh:{hash}`. */
  key: string;
  subject: string;
  clientId: string;
  scopes: string[];
  resource: string;
  issued: string;
  expires: string;
  grantId: string;
  /** The grant (consent) the token belongs to; undefined when it has been revoked or expired. */
  grant?: { created: string; expires: string; scopes: string[] };
  /** Refresh tokens: when it was used (rotated), if it was. */
  rotated?: string;
  /** Would the server accept it now (record and grant present, not expired; refresh tokens: not rotated). */
  active: boolean;
}

export type ShowTokenResult = { found: false; hash: string; wellFormed: boolean } | ({ found: true; hash: string } & TokenView);

export type RevokeTokenResult =
  | { revoked: false; hash: string }
  | { revoked: true; hash: string; kind: 'access_token' | 'refresh_token'; grantId: string; subject: string; clientId: string; grantEnded: boolean };

export interface SessionView {
  sessionId: string;
  /** Remaining idle lifetime in ms (the owner key's TTL). */
  ttlMs?: number;
  /** Where the session lives (`session:{id}:instance`): instance id, its URL, transport kind. */
  instance?: { instance?: string; url?: string; kind?: string };
}

export interface KeyView {
  key: string;
  ttlMs?: number;
}

/** What one admin command takes and returns; the same table drives the CLI and the admin endpoint. */
export interface AdminCommands {
  clients: { args: Record<string, never>; result: { clients: ClientSummary[] } };
  'token-show': { args: { value: string }; result: ShowTokenResult };
  'token-revoke': { args: { value: string }; result: RevokeTokenResult };
  sessions: { args: { subject: string }; result: { subject: string; sessions: SessionView[] } };
  purge: { args: Record<string, never>; result: { deleted: number } };
  keys: { args: { pattern?: string; limit?: number }; result: { pattern: string; keys: KeyView[]; truncated: boolean } };
}
export type AdminCommand = keyof AdminCommands;
export const ADMIN_COMMANDS: readonly AdminCommand[] = ['clients', 'token-show', 'token-revoke', 'sessions', 'purge', 'keys'];

const iso = (ms: number) => new Date(ms).toISOString();
const DELETE_BATCH = 500;
export const DEFAULT_KEY_LIMIT = 1000;

export class AdminOperations {
  private readonly records: Records;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly now: () => number = Date.now
  ) {
    this.records = createRecords(store, key => log.warn({ event: 'corrupt_record', key: key.split(':').slice(0, 2).join(':') }, 'stored record failed validation; shown as absent'));
  }

  run<C extends AdminCommand>(command: C, args: AdminCommands[C]['args']): Promise<AdminCommands[C]['result']> {
    const a = args as Record<string, unknown>;
    const text = (name: string) => {
      const v = a[name];
      if (typeof v !== 'string' || v === '') throw new AdminUsageError(`${command}: "${name}" is required`);
      return v;
    };
    switch (command) {
      case 'clients':
        return this.clients().then(clients => ({ clients })) as Promise<AdminCommands[C]['result']>;
      case 'token-show':
        return this.showToken(text('value')) as Promise<AdminCommands[C]['result']>;
      case 'token-revoke':
        return this.revokeToken(text('value')) as Promise<AdminCommands[C]['result']>;
      case 'sessions': {
        const subject = text('subject');
        return this.sessions(subject).then(sessions => ({ subject, sessions })) as Promise<AdminCommands[C]['result']>;
      }
      case 'purge':
        return this.purge().then(deleted => ({ deleted })) as Promise<AdminCommands[C]['result']>;
      case 'keys': {
        const pattern = typeof a.pattern === 'string' && a.pattern !== '' ? a.pattern : '*';
        const limit = typeof a.limit === 'number' && Number.isInteger(a.limit) && a.limit > 0 ? a.limit : DEFAULT_KEY_LIMIT;
        return this.keys(pattern, limit) as Promise<AdminCommands[C]['result']>;
      }
      default:
        throw new AdminUsageError(`unknown command ${JSON.stringify(command)}`);
    }
  }

  /** Registered clients and cached client ID metadata documents, oldest first. */
  async clients(): Promise<ClientSummary[]> {
    const out: ClientSummary[] = [];
    for await (const key of this.store.scan(`${this.records.clients.prefix}*`)) {
      const record = await this.records.clients.get(key.slice(this.records.clients.prefix.length));
      if (!record) continue;
      const ttl = await this.store.ttl(key);
      out.push({
        clientId: record.client_id,
        name: record.client_name,
        authMethod: record.token_endpoint_auth_method,
        redirectUris: record.redirect_uris,
        grantTypes: record.grant_types,
        scope: record.scope,
        source: record.source,
        created: iso(record.client_id_issued_at * 1000),
        expires: ttl === undefined ? undefined : iso(this.now() + ttl),
        secretExpires: record.client_secret_hash && record.client_secret_expires_at > 0 ? iso(record.client_secret_expires_at * 1000) : undefined
      });
    }
    for await (const key of this.store.scan(`${this.records.cimd.prefix}*`)) {
      const cached = await this.records.cimd.get(key.slice(this.records.cimd.prefix.length));
      if (!cached) continue;
      const ttl = await this.store.ttl(key);
      const c = cached.client;
      out.push({
        clientId: c.client_id,
        name: c.client_name,
        authMethod: c.token_endpoint_auth_method,
        redirectUris: c.redirect_uris,
        grantTypes: c.grant_types,
        scope: c.scope,
        source: 'metadata_document',
        created: iso(cached.fetchedAt),
        expires: ttl === undefined ? undefined : iso(this.now() + ttl)
      });
    }
    return out.sort((a, b) => a.created.localeCompare(b.created) || a.clientId.localeCompare(b.clientId));
  }

  private async find(value: string): Promise<{ hash: string; kind?: 'access_token' | 'refresh_token'; record?: TokenRecord }> {
    const hash = sha256(value);
    const access = await this.records.accessTokens.get(hash);
    if (access) return { hash, kind: 'access_token', record: access };
    const refresh = await this.records.refreshTokens.get(hash);
    if (refresh) return { hash, kind: 'refresh_token', record: refresh };
    return { hash };
  }

  /** The access or refresh record a token value points to. */
  async showToken(value: string): Promise<ShowTokenResult> {
    const { hash, kind, record } = await this.find(value);
    if (!kind || !record) return { found: false, hash, wellFormed: looksLikeToken(value) };
    const grant = await this.records.grants.get(record.grantId);
    const rotation = kind === 'refresh_token' ? await this.records.rotations.get(hash) : undefined;
    const now = this.now();
    return {
      found: true,
      hash,
      kind,
      key: (kind === 'access_token' ? this.records.accessTokens : this.records.refreshTokens).key(hash),
      subject: record.subject,
      clientId: record.clientId,
      scopes: record.scopes,
      resource: record.resource,
      issued: iso(record.issuedAt),
      expires: iso(record.expiresAt),
      grantId: record.grantId,
      grant: grant ? { created: iso(grant.createdAt), expires: iso(grant.expiresAt), scopes: grant.scopes } : undefined,
      rotated: rotation ? iso(rotation.rotatedAt) : undefined,
      active: record.expiresAt > now && grant !== undefined && grant.expiresAt > now && rotation === undefined
    };
  }

  /** Revokes like `POST /revoke` (without the client check): a refresh token ends its whole grant. */
  async revokeToken(value: string): Promise<RevokeTokenResult> {
    const { hash, kind, record } = await this.find(value);
    if (!kind || !record) return { revoked: false, hash };
    const ctx = { store: this.store, records: this.records, log: this.log };
    if (kind === 'refresh_token') await revokeGrant(ctx, record.grantId, 'revoked with the admin CLI');
    else await revokeAccessToken(ctx, hash, record.grantId);
    this.log.info({ event: 'admin_token_revoked', tokenType: kind, grantId: record.grantId, clientId: record.clientId }, 'token revoked with the admin CLI');
    return { revoked: true, hash, kind, grantId: record.grantId, subject: record.subject, clientId: record.clientId, grantEnded: kind === 'refresh_token' };
  }

  /** 2025-era MCP sessions (`session:{<id>}:owner`) whose owner is `subject`. */
  async sessions(subject: string): Promise<SessionView[]> {
    const out: SessionView[] = [];
    for await (const key of this.store.scan(ownerKey('*'))) {
      const sessionId = sessionIdOfOwnerKey(key);
      if (sessionId === undefined || (await this.store.get(key)) !== subject) continue;
      let instance: SessionView['instance'];
      try {
        const raw = await this.store.get(instanceKey(sessionId));
        if (raw) instance = JSON.parse(raw) as SessionView['instance'];
      } catch {
        instance = undefined; // not JSON: shown without its location
      }
      out.push({ sessionId, ttlMs: await this.store.ttl(key), ...(instance ? { instance } : {}) });
    }
    return out.sort((a, b) => a.sessionId.localeCompare(b.sessionId));
  }

  /** Deletes every `auth:*` key: clients, codes, grants, tokens. Everyone must register and sign in again. */
  async purge(): Promise<number> {
    let deleted = 0;
    let batch: string[] = [];
    for await (const key of this.store.scan('auth:*')) {
      batch.push(key);
      if (batch.length >= DELETE_BATCH) {
        deleted += await this.store.delete(...batch);
        batch = [];
      }
    }
    if (batch.length) deleted += await this.store.delete(...batch);
    this.log.warn({ event: 'admin_purge', deleted }, 'all authorization data purged with the admin CLI');
    return deleted;
  }

  /** Keys matching a glob (`*` only), sorted, with their TTL; at most `limit`. */
  async keys(pattern: string, limit = DEFAULT_KEY_LIMIT): Promise<{ pattern: string; keys: KeyView[]; truncated: boolean }> {
    const names: string[] = [];
    let truncated = false;
    for await (const key of this.store.scan(pattern)) {
      if (names.length >= limit) {
        truncated = true;
        break;
      }
      names.push(key);
    }
    names.sort();
    const keys: KeyView[] = [];
    for (const key of names) keys.push({ key, ttlMs: await this.store.ttl(key) });
    return { pattern, keys, truncated };
  }
}

/** A command or argument the operations cannot run (HTTP 400 at the endpoint, exit code 2 in the CLI). */
export class AdminUsageError extends Error {
  override readonly name = 'AdminUsageError';
}
