/**
 * Client authentication at the token, introspection and revocation
 * endpoints (RFC 6749 §2.3): `client_secret_basic`, `client_secret_post`,
 * or `none` (a public client names itself with `client_id`).
 *
 * - A client must use the method it registered (a client registered for
 *   basic cannot switch to post, a public client cannot send a secret).
 * - Two methods in one request is `invalid_request` (RFC 6749 §2.3).
 * - Secrets are compared as SHA-256 digests in constant time.
 * - Every failure is `invalid_client` (401; with a Basic challenge when
 *   Basic was tried) and an audit line with the reason.
 * - The resource-server client provisioned from configuration
 *   (`INTROSPECTION_CLIENT_ID`/`_SECRET`) authenticates with either secret
 *   method and may only introspect.
 */
import type { Request, Response } from 'express';

import { findClient } from './clients.js';
import type { AsContext } from './context.js';
import { matchesHash } from './crypto.js';
import { OAuthError } from './errors.js';
import { form } from './http.js';
import type { ClientRecord } from './records.js';

export type AuthMethod = 'none' | 'client_secret_post' | 'client_secret_basic';

export interface AuthenticatedClient {
  clientId: string;
  method: AuthMethod;
  /** Undefined for the configured resource-server client. */
  client?: ClientRecord;
  isResourceServer: boolean;
}

/** RFC 6749 §2.3.1: each Basic component is form-urlencoded before base64. */
function decodeBasic(header: string): { id: string; secret: string } | undefined {
  const m = /^Basic ([A-Za-z0-9+/=._~-]+)$/i.exec(header.trim());
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: dec(decoded.slice(0, colon)), secret: dec(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

export async function authenticateClient(ctx: AsContext, req: Request, res: Response): Promise<AuthenticatedClient> {
  const body = form(res);
  const header = req.get('authorization');
  const fail = (reason: string, clientId?: string): never => {
    ctx.log.warn({ event: 'client_auth_failed', clientId: clientId?.slice(0, 200), reason, path: req.path }, 'client authentication failed');
    throw new OAuthError('invalid_client', { reason });
  };

  let clientId: string | undefined;
  let secret: string | undefined;
  let method: AuthMethod;
  if (header !== undefined) {
    if (!/^basic /i.test(header.trim())) fail('unsupported Authorization scheme');
    const basic = decodeBasic(header);
    if (!basic) return fail('malformed Basic credentials');
    if (body.client_secret !== undefined) throw new OAuthError('invalid_request', { reason: 'two client authentication methods' });
    if (body.client_id !== undefined && body.client_id !== basic.id) fail('client_id differs from Basic credentials', basic.id);
    clientId = basic.id;
    secret = basic.secret;
    method = 'client_secret_basic';
  } else if (body.client_secret !== undefined) {
    clientId = body.client_id;
    secret = body.client_secret;
    method = 'client_secret_post';
  } else {
    clientId = body.client_id;
    method = 'none';
  }
  if (!clientId) return fail('no client identification');

  const rs = ctx.resourceServerClient;
  if (rs && clientId === rs.clientId) {
    if (method === 'none' || secret === undefined || !matchesHash(secret, rs.secretHash)) return fail('bad resource-server credentials', clientId);
    return { clientId, method, isResourceServer: true };
  }

  let client: ClientRecord | undefined;
  try {
    client = await findClient(ctx, clientId);
  } catch (err) {
    if (err instanceof OAuthError) return fail(err.reason, clientId);
    throw err;
  }
  if (!client) return fail('unknown client', clientId);
  if (client.token_endpoint_auth_method !== method) return fail(`client registered ${client.token_endpoint_auth_method}, used ${method}`, clientId);
  if (method !== 'none' && (!client.client_secret_hash || secret === undefined || !matchesHash(secret, client.client_secret_hash))) {
    return fail('wrong client secret', clientId);
  }
  return { clientId, method, client, isResourceServer: false };
}
