/**
 * OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document-00,
 * MCP 2025-11-25+ "Client ID Metadata Documents"): a client whose `client_id`
 * is an https URL is described by the JSON document at that URL.
 *
 * Fetching a URL chosen by an anonymous party is a server-side request
 * forgery risk (draft §6, MCP security considerations), so the fetch:
 * - resolves the host itself and refuses when ANY address is private,
 *   loopback, link-local, unique-local, CGNAT, multicast, reserved or
 *   unspecified (IPv4-mapped and NAT64 IPv6 are unwrapped first), then
 *   connects to the vetted address (no second lookup: no DNS rebinding);
 * - never follows redirects (the document's `client_id` must equal the URL
 *   it was fetched from anyway);
 * - gives up after `timeoutMs` and `maxBytes`;
 * - caches the validated document per Cache-Control / Expires
 *   (`no-store`/`no-cache`: not cached; no header: `defaultCacheSeconds`;
 *   at most `maxCacheSeconds`).
 *
 * Every redirect URI of the document must also be inside
 * `ALLOWED_CLIENT_REDIRECT_URIS` when the operator set it (checked on every
 * use, cached or not): otherwise `invalid_redirect_uri` and an audit line.
 *
 * `CIMD_ALLOW_LOOPBACK` (development and tests only) additionally allows
 * `http://localhost` / `http://127.0.0.1` documents and loopback addresses;
 * private and link-local addresses stay refused.
 */
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';

import { z } from 'zod';

import type { AsContext } from './context.js';
import { sha256 } from './crypto.js';
import { OAuthError } from './errors.js';
import type { ClientRecord } from './records.js';
import { redirectUriProblem } from './redirect-uri.js';
import { refuseUnlistedRedirectUris } from './redirect-uri-allowlist.js';

export interface MetadataDocumentOptions {
  /** Whole fetch budget, ms. */
  timeoutMs: number;
  /** Largest accepted document, bytes (the draft suggests 5 KB). */
  maxBytes: number;
  defaultCacheSeconds: number;
  maxCacheSeconds: number;
}

export const DEFAULT_METADATA_DOCUMENT_OPTIONS: MetadataDocumentOptions = {
  timeoutMs: 5000,
  maxBytes: 5 * 1024,
  defaultCacheSeconds: 300,
  maxCacheSeconds: 24 * 3600
};

const LOOPBACK_DEV_HOSTS = new Set(['localhost', '127.0.0.1']);

/** Is this client_id a metadata document URL (as opposed to a registered id)? */
export function isMetadataDocumentClientId(clientId: string, allowLoopback: boolean): boolean {
  if (clientId.startsWith('https://')) return true;
  if (!allowLoopback || !clientId.startsWith('http://')) return false;
  try {
    return LOOPBACK_DEV_HOSTS.has(new URL(clientId).hostname);
  } catch {
    return false;
  }
}

const invalidClient = (reason: string) => new OAuthError('invalid_client', { reason: `client metadata document: ${reason}` });

/** Draft §3: https, a path, no fragment, no userinfo, no dot segments; exactly in normalized form. */
export function clientIdUrlProblem(clientId: string, allowLoopback: boolean): string | undefined {
  if (clientId.length > 2000) return 'client_id URL too long';
  let u: URL;
  try {
    u = new URL(clientId);
  } catch {
    return 'client_id is not a URL';
  }
  const loopbackDev = allowLoopback && u.protocol === 'http:' && LOOPBACK_DEV_HOSTS.has(u.hostname);
  if (u.protocol !== 'https:' && !loopbackDev) return 'client_id URL must use https';
  if (clientId.includes('#')) return 'client_id URL has a fragment';
  if (u.username || u.password) return 'client_id URL has userinfo';
  if (u.pathname === '/' || u.pathname === '') return 'client_id URL has no path';
  if (/\/\.{1,2}(\/|$)/.test(clientId.split('?')[0]!.slice(u.protocol.length + 2))) return 'client_id URL has dot segments';
  if (u.href !== clientId) return 'client_id URL is not in normalized form';
  return undefined;
}

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4]
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8]
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** The IPv4 address hidden in an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::/96) IPv6 address. */
function embeddedIpv4(address: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = parseInt(m[2]!, 16);
  const lo = parseInt(m[3]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export function isLoopbackAddress(address: string): boolean {
  const v4 = isIP(address) === 4 ? address : embeddedIpv4(address);
  if (v4) return v4.startsWith('127.');
  return address === '::1';
}

/** True when the address may be fetched from (public unicast). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  const v4 = family === 4 ? address : embeddedIpv4(address.toLowerCase());
  if (v4) return !blocked.check(v4, 'ipv4');
  return !blocked.check(address, 'ipv6');
}

export async function vetHost(hostname: string, allowLoopback: boolean): Promise<{ address: string; family: number }> {
  const host = hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true, verbatim: true }).catch(() => []);
  if (addresses.length === 0) throw invalidClient('host does not resolve');
  for (const a of addresses) {
    const ok = isPublicAddress(a.address) || (allowLoopback && isLoopbackAddress(a.address));
    if (!ok) throw invalidClient('host resolves to a non-public address');
  }
  return addresses[0]!;
}

interface Fetched {
  body: string;
  cacheControl?: string;
  expires?: string;
  date?: string;
}

function fetchVetted(url: URL, vetted: { address: string; family: number }, opts: MetadataDocumentOptions): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(
      url,
      {
        method: 'GET',
        headers: { accept: 'application/json', 'user-agent': 'mcp-reference-as/1 (client-id-metadata-document)' },
        // Connect to the address we vetted, never to a fresh lookup.
        lookup: (_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
          if (options?.all) cb(null, [{ address: vetted.address, family: vetted.family }]);
          else cb(null, vetted.address, vetted.family);
        },
        timeout: opts.timeoutMs
      } as http.RequestOptions,
      res => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          res.resume();
          return reject(invalidClient('redirects are not followed'));
        }
        if (status !== 200) {
          res.resume();
          return reject(invalidClient(`status ${status}`));
        }
        const type = String(res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
          res.resume();
          return reject(invalidClient('content type is not JSON'));
        }
        const declared = Number(res.headers['content-length'] ?? 0);
        if (declared > opts.maxBytes) {
          res.destroy();
          return reject(invalidClient('document too large'));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > opts.maxBytes) {
            res.destroy();
            reject(invalidClient('document too large'));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () =>
          resolve({
            body: Buffer.concat(chunks).toString('utf8'),
            cacheControl: res.headers['cache-control'],
            expires: res.headers.expires,
            date: res.headers.date
          })
        );
        res.on('error', () => reject(invalidClient('read failed')));
      }
    );
    const deadline = setTimeout(() => req.destroy(new Error('timeout')), opts.timeoutMs);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', err => reject(err instanceof OAuthError ? err : invalidClient(err.message === 'timeout' ? 'fetch timed out' : 'fetch failed')));
    req.on('close', () => clearTimeout(deadline));
    req.end();
  });
}

/** Seconds the document may be cached for, per RFC 9111 (simplified). 0 = do not cache. */
export function cacheSeconds(f: Pick<Fetched, 'cacheControl' | 'expires' | 'date'>, opts: MetadataDocumentOptions, now: number): number {
  const cc = (f.cacheControl ?? '').toLowerCase();
  if (/(^|,)\s*(no-store|no-cache|private)\s*(,|$|=)/.test(cc)) return 0;
  const maxAge = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/.exec(cc);
  let secs: number;
  if (maxAge) secs = Number(maxAge[1]);
  else if (f.expires) {
    const exp = Date.parse(f.expires);
    const base = f.date ? Date.parse(f.date) : now;
    secs = Number.isFinite(exp) ? Math.floor((exp - (Number.isFinite(base) ? base : now)) / 1000) : 0;
  } else secs = opts.defaultCacheSeconds;
  return Math.max(0, Math.min(secs, opts.maxCacheSeconds));
}

const MetadataDocument = z
  .object({
    client_id: z.string(),
    client_name: z.string().min(1).max(200),
    redirect_uris: z.array(z.string()).min(1).max(20),
    client_uri: z.string().max(2000).optional(),
    logo_uri: z.string().max(2000).optional(),
    tos_uri: z.string().max(2000).optional(),
    policy_uri: z.string().max(2000).optional(),
    software_id: z.string().max(200).optional(),
    software_version: z.string().max(200).optional(),
    scope: z.string().max(1000).optional(),
    grant_types: z.array(z.enum(['authorization_code', 'refresh_token'])).optional(),
    response_types: z.array(z.literal('code')).optional(),
    token_endpoint_auth_method: z.string().optional(),
    application_type: z.enum(['web', 'native']).optional()
  })
  .loose();

/** Draft §4: the document must describe this very URL and a client that holds no shared secret. */
export function validateMetadataDocument(url: string, raw: unknown, now: number): ClientRecord {
  const parsed = MetadataDocument.safeParse(raw);
  if (!parsed.success) throw invalidClient(`invalid document (${parsed.error.issues[0]?.path.join('.') || 'root'})`);
  const doc = parsed.data;
  if (doc.client_id !== url) throw invalidClient('client_id does not match the document URL');
  if ('client_secret' in doc || 'client_secret_expires_at' in doc) throw invalidClient('document carries a client secret');
  const method = doc.token_endpoint_auth_method ?? 'none';
  if (method !== 'none') throw invalidClient(`token_endpoint_auth_method ${method} is not supported for metadata documents`);
  for (const uri of doc.redirect_uris) {
    const problem = redirectUriProblem(uri);
    if (problem) throw invalidClient(`redirect URI ${problem}`);
  }
  const grantTypes = doc.grant_types ?? ['authorization_code'];
  if (!grantTypes.includes('authorization_code')) throw invalidClient('grant_types lacks authorization_code');
  return {
    client_id: url,
    client_name: doc.client_name,
    client_uri: doc.client_uri,
    logo_uri: doc.logo_uri,
    tos_uri: doc.tos_uri,
    policy_uri: doc.policy_uri,
    software_id: doc.software_id,
    software_version: doc.software_version,
    scope: doc.scope,
    redirect_uris: doc.redirect_uris,
    grant_types: grantTypes,
    response_types: doc.response_types ?? ['code'],
    token_endpoint_auth_method: 'none',
    application_type: doc.application_type ?? 'web',
    client_id_issued_at: Math.floor(now / 1000),
    client_secret_expires_at: 0,
    source: 'metadata_document'
  };
}

/**
 * The client described by the metadata document at `clientId`: from the
 * cache when fresh, otherwise fetched (SSRF-guarded), validated and cached.
 * Rejects with `invalid_client` (reason in the log only).
 */
export async function resolveMetadataDocument(ctx: AsContext, clientId: string, opts = DEFAULT_METADATA_DOCUMENT_OPTIONS): Promise<ClientRecord> {
  const allowLoopback = ctx.config.cimdAllowLoopback;
  const problem = clientIdUrlProblem(clientId, allowLoopback);
  if (problem) throw invalidClient(problem);

  const cacheKey = sha256(clientId);
  const cached = await ctx.records.cimd.get(cacheKey);
  if (cached) {
    // The operator's list applies to every use, so a cached document is checked again.
    refuseUnlistedRedirectUris(ctx, cached.client.redirect_uris, { source: 'metadata_document', clientId });
    return cached.client;
  }

  const url = new URL(clientId);
  const vetted = await vetHost(url.hostname, allowLoopback);
  const fetched = await fetchVetted(url, vetted, opts);
  let json: unknown;
  try {
    json = JSON.parse(fetched.body);
  } catch {
    throw invalidClient('document is not JSON');
  }
  const now = ctx.now();
  const client = validateMetadataDocument(clientId, json, now);
  refuseUnlistedRedirectUris(ctx, client.redirect_uris, { source: 'metadata_document', clientId });
  const ttl = cacheSeconds(fetched, opts, now);
  if (ttl > 0) await ctx.records.cimd.set(cacheKey, { client, fetchedAt: now }, ttl * 1000);
  ctx.log.info({ event: 'client_metadata_document_fetched', clientId, cacheSeconds: ttl }, 'client metadata document fetched');
  return client;
}
