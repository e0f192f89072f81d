/**
 * Authorization server metadata discovery for external mode, in the MCP
 * specification's probe order (2026-07-28 "Authorization Server Discovery",
 * from RFC 8414 §3.1 and §5):
 *
 *   issuer with a path (https://as.example/tenant1):
 *     1. https://as.example/.well-known/oauth-authorization-server/tenant1   (RFC 8414, path insertion)
 *     2. https://as.example/.well-known/openid-configuration/tenant1         (OIDC, path insertion)
 *     3. https://as.example/tenant1/.well-known/openid-configuration         (OIDC Discovery 1.0, path appended)
 *   issuer without a path (https://as.example or https://as.example/):
 *     1. https://as.example/.well-known/oauth-authorization-server
 *     2. https://as.example/.well-known/openid-configuration
 *
 * A document is used only when its `issuer` is identical to the configured
 * one (RFC 8414 §3.3, OIDC Discovery §4.3): no trailing-slash or case
 * normalisation. Every request has a timeout and follows no redirects.
 */
import { z } from 'zod';

/** The metadata fields the RS uses; every other field is kept as-is. */
const Metadata = z.looseObject({
  issuer: z.string().min(1),
  jwks_uri: z.url().optional(),
  introspection_endpoint: z.url().optional(),
  introspection_endpoint_auth_methods_supported: z.array(z.string()).optional(),
  token_endpoint: z.string().optional(),
  authorization_endpoint: z.string().optional(),
  scopes_supported: z.array(z.string()).optional()
});
export type AuthorizationServerMetadata = z.infer<typeof Metadata>;

export interface DiscoveryResult {
  metadata: AuthorizationServerMetadata;
  /** The URL the accepted document came from (used again by `/ready`). */
  url: string;
}

/** Discovery could not reach the AS (network, timeout, 5xx): try again later. */
export class DiscoveryUnavailableError extends Error {
  override readonly name = 'DiscoveryUnavailableError';
}

/** The AS answered, but no acceptable document was found: a configuration problem. */
export class DiscoveryFailedError extends Error {
  override readonly name = 'DiscoveryFailedError';
}

/** The candidate metadata URLs for an issuer, in the MCP spec's order. */
export function discoveryUrls(issuer: string): string[] {
  const u = new URL(issuer);
  if (u.search || u.hash) throw new DiscoveryFailedError(`issuer ${issuer} must not carry a query or fragment (RFC 8414 §2)`);
  const path = u.pathname.replace(/\/+$/, '');
  const origin = u.origin;
  if (!path) return [`${origin}/.well-known/oauth-authorization-server`, `${origin}/.well-known/openid-configuration`];
  return [
    `${origin}/.well-known/oauth-authorization-server${path}`,
    `${origin}/.well-known/openid-configuration${path}`,
    `${origin}${path}/.well-known/openid-configuration`
  ];
}

export interface DiscoverOptions {
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * Fetches the first acceptable metadata document. Rejects with
 * `DiscoveryUnavailableError` when nothing answered because of transient
 * trouble, `DiscoveryFailedError` when the AS answered but no document fits.
 */
export async function discoverAuthorizationServer(issuer: string, options: DiscoverOptions = {}): Promise<DiscoveryResult> {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5000;
  const problems: string[] = [];
  let transient = false;

  for (const url of discoveryUrls(issuer)) {
    let res: Response;
    try {
      res = await doFetch(url, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      transient = true;
      problems.push(`${url}: ${(err as Error)?.name === 'TimeoutError' ? 'timed out' : 'unreachable'}`);
      continue;
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 500 || res.status === 429) transient = true;
      problems.push(`${url}: HTTP ${res.status}`);
      continue;
    }
    let parsed;
    try {
      parsed = Metadata.safeParse(await res.json());
    } catch {
      problems.push(`${url}: not JSON`);
      continue;
    }
    if (!parsed.success) {
      problems.push(`${url}: not authorization server metadata`);
      continue;
    }
    if (parsed.data.issuer !== issuer) {
      // RFC 8414 §3.3: MUST NOT use it. Say exactly what differs.
      problems.push(`${url}: issuer is "${parsed.data.issuer}", expected exactly "${issuer}"`);
      continue;
    }
    return { metadata: parsed.data, url };
  }
  const message = `no usable authorization server metadata for ${issuer}: ${problems.join('; ')}`;
  throw transient ? new DiscoveryUnavailableError(message) : new DiscoveryFailedError(message);
}
