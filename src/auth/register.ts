/**
 * `POST /register`: OAuth 2.0 Dynamic Client Registration (RFC 7591).
 * Deprecated by MCP 2026-07-28 in favour of client ID metadata documents,
 * kept for every client written before it.
 *
 * - Redirect URIs: https, or http on a loopback host (see redirect-uri.ts),
 *   and each inside `ALLOWED_CLIENT_REDIRECT_URIS` when the operator set it.
 * - `token_endpoint_auth_method`: none, client_secret_post or
 *   client_secret_basic (default client_secret_basic, RFC 7591 §2).
 * - The secret is returned once, in this response; the store keeps its SHA-256.
 * - The registration lives `CLIENT_REGISTRATION_TTL`; `client_secret_expires_at`
 *   says when (the record and the secret vanish together).
 * - `application_type` defaults from the redirect URIs (loopback: native,
 *   otherwise web), as MCP clients derive it (SEP-837); OIDC's stricter
 *   web/native redirect rules are not enforced (MCP: non-OIDC servers may ignore it).
 * - Unknown metadata fields are ignored (RFC 7591 §2).
 */
import { randomUUID } from 'node:crypto';

import express, { Router } from 'express';
import { z } from 'zod';

import { PATHS, SCOPES_SUPPORTED, seconds, type AsContext } from './context.js';
import { randomToken, sha256 } from './crypto.js';
import { OAuthError } from './errors.js';
import { allowCors, BODY_LIMIT, limitDeclaredBody, noStore, wrap, type Step } from './http.js';
import { rateLimit } from './rate-limit.js';
import type { ClientRecord } from './records.js';
import { isLoopbackRedirect, redirectUriProblem } from './redirect-uri.js';
import { refuseUnlistedRedirectUris } from './redirect-uri-allowlist.js';
import { oauthSpan } from '../observability/oauth-spans.js';

const text = (max: number) => z.string().max(max);
const uri = z.string().max(2000).url();

const RegistrationRequest = z
  .object({
    redirect_uris: z.array(z.string()).min(1).max(20),
    token_endpoint_auth_method: z.enum(['none', 'client_secret_post', 'client_secret_basic']).default('client_secret_basic'),
    grant_types: z.array(z.string()).max(5).optional(),
    response_types: z.array(z.string()).max(5).optional(),
    application_type: z.enum(['web', 'native']).optional(),
    client_name: text(200).optional(),
    client_uri: uri.optional(),
    logo_uri: uri.optional(),
    tos_uri: uri.optional(),
    policy_uri: uri.optional(),
    contacts: z.array(text(200)).max(10).optional(),
    software_id: text(200).optional(),
    software_version: text(200).optional(),
    scope: text(1000).optional()
  })
  .loose();

const metadataError = (reason: string, code: 'invalid_client_metadata' | 'invalid_redirect_uri' = 'invalid_client_metadata') =>
  new OAuthError(code, { reason });

/** Checks and normalizes the request into the client record to store (without id/secret). */
export function checkRegistration(body: unknown): Omit<ClientRecord, 'client_id' | 'client_id_issued_at' | 'client_secret_expires_at' | 'source'> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw metadataError('body is not a JSON object');
  const raw = body as Record<string, unknown>;
  if (!Array.isArray(raw.redirect_uris) || raw.redirect_uris.length === 0) throw metadataError('redirect_uris missing', 'invalid_redirect_uri');
  const parsed = RegistrationRequest.safeParse(body);
  if (!parsed.success) {
    const field = String(parsed.error.issues[0]?.path[0] ?? 'body');
    throw metadataError(`invalid ${field}`, field === 'redirect_uris' ? 'invalid_redirect_uri' : 'invalid_client_metadata');
  }
  const r = parsed.data;
  for (const u of r.redirect_uris) {
    const problem = redirectUriProblem(u);
    if (problem) throw metadataError(`redirect URI ${problem}`, 'invalid_redirect_uri');
  }
  const grantTypes = r.grant_types ?? ['authorization_code'];
  const responseTypes = r.response_types ?? ['code'];
  if (grantTypes.some(g => g !== 'authorization_code' && g !== 'refresh_token')) throw metadataError('unsupported grant type');
  if (!grantTypes.includes('authorization_code')) throw metadataError('grant_types must include authorization_code');
  if (responseTypes.some(t => t !== 'code')) throw metadataError('unsupported response type');
  if (r.scope !== undefined) {
    const unknown = r.scope.split(' ').filter(s => s && !(SCOPES_SUPPORTED as readonly string[]).includes(s));
    if (unknown.length) throw metadataError('unknown scope');
  }
  return {
    redirect_uris: r.redirect_uris,
    token_endpoint_auth_method: r.token_endpoint_auth_method,
    grant_types: [...new Set(grantTypes)],
    response_types: ['code'],
    application_type: r.application_type ?? (r.redirect_uris.every(isLoopbackRedirect) ? 'native' : 'web'),
    client_name: r.client_name,
    client_uri: r.client_uri,
    logo_uri: r.logo_uri,
    tos_uri: r.tos_uri,
    policy_uri: r.policy_uri,
    contacts: r.contacts,
    software_id: r.software_id,
    software_version: r.software_version,
    scope: r.scope
  };
}

export function registerRouter(ctx: AsContext, onError: express.ErrorRequestHandler): Router {
  const router = Router();

  const registerClient: Step = async (req, res) => {
    const metadata = checkRegistration(req.body);
    refuseUnlistedRedirectUris(ctx, metadata.redirect_uris, { source: 'dynamic_registration' });
    const now = ctx.now();
    const ttlMs = ctx.config.tokens.registrationTtl * 1000;
    const clientId = randomUUID();
    const confidential = metadata.token_endpoint_auth_method !== 'none';
    const secret = confidential ? randomToken() : undefined;
    const record: ClientRecord = {
      ...metadata,
      client_id: clientId,
      client_secret_hash: secret ? sha256(secret) : undefined,
      client_id_issued_at: seconds(now),
      client_secret_expires_at: seconds(now + ttlMs),
      source: 'dynamic_registration'
    };
    await ctx.records.clients.set(clientId, record, ttlMs);
    await ctx.store.replicate([ctx.records.clients.key(clientId)]);
    ctx.log.info(
      { event: 'client_registered', clientId, authMethod: record.token_endpoint_auth_method, applicationType: record.application_type, grantTypes: record.grant_types },
      'client registered'
    );
    const { client_secret_hash: _hash, source: _source, ...visible } = record;
    res.status(201).json({ ...visible, ...(secret ? { client_secret: secret } : {}) });
  };

  router.options(PATHS.register, allowCors('POST'));
  router.post(PATHS.register, oauthSpan(ctx.tracer, 'register'), allowCors('POST'), rateLimit(ctx, 'register'), noStore, limitDeclaredBody, express.json({ limit: BODY_LIMIT }), wrap(registerClient), onError);
  return router;
}
