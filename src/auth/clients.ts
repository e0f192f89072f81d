/**
 * Where a `client_id` is looked up: a dynamically registered client
 * (`auth:client:{clientId}`), or a client ID metadata document URL.
 */
import { isMetadataDocumentClientId, resolveMetadataDocument } from './client-metadata-document.js';
import type { AsContext } from './context.js';
import type { ClientRecord } from './records.js';

const REGISTERED_ID = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * The client, or undefined when it is unknown. A metadata document that
 * cannot be fetched or is invalid rejects with `invalid_client`.
 */
export async function findClient(ctx: AsContext, clientId: string): Promise<ClientRecord | undefined> {
  if (isMetadataDocumentClientId(clientId, ctx.config.cimdAllowLoopback)) return resolveMetadataDocument(ctx, clientId);
  if (!REGISTERED_ID.test(clientId)) return undefined;
  const client = await ctx.records.clients.get(clientId);
  if (client && client.client_secret_expires_at !== 0 && client.client_secret_expires_at * 1000 <= ctx.now()) return undefined;
  return client;
}

/** Refresh tokens are issued when the client asked for `offline_access` or registered the `refresh_token` grant (SEP-2207). */
export function wantsRefreshToken(client: ClientRecord, scopes: readonly string[]): boolean {
  return scopes.includes('offline_access') || client.grant_types.includes('refresh_token');
}
