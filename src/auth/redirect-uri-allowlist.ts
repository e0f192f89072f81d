/**
 * The operator's list of redirect URIs clients may use at all
 * (`ALLOWED_CLIENT_REDIRECT_URIS`). Registration is open (RFC 7591, client ID
 * metadata documents), so this is how an operator decides which MCP clients
 * may come in: every redirect URI of a registration or a metadata document
 * must match one entry, otherwise the client is refused with
 * `invalid_redirect_uri` (RFC 7591 §3.2.2) and an audit line. An empty list
 * keeps the general rules of redirect-uri.ts alone.
 *
 * Entries:
 * - an exact URI (no `*`): the redirect URI must be that very string;
 * - a pattern, where `*` may stand in exactly two places:
 *   - the port, `http://localhost:*`: any port, or none;
 *   - the leftmost host label, `https://*.example.com/callback`: exactly one
 *     DNS label (letters, digits, hyphens), never a dot, so it cannot reach
 *     `a.b.example.com` or `example.com.evil.test`;
 *   and a pattern with no path (`http://localhost:*`) allows any path and
 *   query on that scheme, host and port, while a pattern with a path requires
 *   that exact path (and query, none when it has none).
 * The scheme always matches exactly; userinfo and fragments never match.
 * Candidates are compared after WHATWG URL parsing, as a browser resolves
 * the redirect (so `\`, percent-encoding and case tricks parse the same way here).
 */
import type { AsContext } from './context.js';
import { OAuthError } from './errors.js';

export class AllowlistEntryError extends Error {
  override readonly name = 'AllowlistEntryError';
}

interface Pattern {
  source: string;
  protocol: string;
  /** Hostname after the wildcard label (`example.com` for `*.example.com`), or the whole hostname. */
  host: string;
  wildcardLabel: boolean;
  /** '' = default port; '*' = any. */
  port: string;
  /** undefined = any path and query. */
  path?: string;
  search?: string;
}

export type RedirectUriAllowlist = (uri: string) => boolean;

const SHAPE = /^(https?):\/\/(\*\.)?(\[[0-9A-Fa-f:.]+\]|[^/:?#*@\[\]\\]+)(?::(\*|\d{1,5}))?(\/[^?#*]*)?(\?[^#*]*)?$/;
const LABEL = /^[a-z0-9-]+$/;

function parse(uri: string): URL | undefined {
  try {
    return new URL(uri);
  } catch {
    return undefined;
  }
}

/** Parses one pattern entry (one that contains `*`); throws AllowlistEntryError naming what is wrong. */
function compilePattern(source: string): Pattern {
  const m = SHAPE.exec(source);
  if (!m) {
    throw new AllowlistEntryError(
      `${JSON.stringify(source)}: \`*\` may only stand for the port (http://localhost:*) or the leftmost host label (https://*.example.com/callback)`
    );
  }
  const [, scheme, star, rawHost, rawPort, rawPath, rawSearch] = m;
  const port = rawPort === '*' ? '*' : rawPort ?? '';
  // Normalise host, port, path and query the way a URL parser does.
  const probe = parse(`${scheme}://${rawHost}${port && port !== '*' ? `:${port}` : ''}${rawPath ?? '/'}${rawSearch ?? ''}`);
  if (!probe) throw new AllowlistEntryError(`${JSON.stringify(source)} is not a URI`);
  if (star && (probe.hostname.startsWith('[') || /^[\d.]+$/.test(probe.hostname))) {
    throw new AllowlistEntryError(`${JSON.stringify(source)}: a wildcard label needs a DNS name, not an IP address`);
  }
  return {
    source,
    protocol: `${scheme}:`,
    host: probe.hostname,
    wildcardLabel: !!star,
    port: port === '*' ? '*' : probe.port,
    path: rawPath === undefined ? undefined : probe.pathname,
    search: rawPath === undefined ? undefined : probe.search
  };
}

function matchesPattern(p: Pattern, uri: string): boolean {
  const u = parse(uri);
  if (!u || uri.includes('#') || u.username || u.password) return false;
  if (u.protocol !== p.protocol) return false;
  if (p.wildcardLabel) {
    if (!u.hostname.endsWith(`.${p.host}`)) return false;
    const label = u.hostname.slice(0, -(p.host.length + 1));
    if (!LABEL.test(label)) return false;
  } else if (u.hostname !== p.host) return false;
  if (p.port !== '*' && u.port !== p.port) return false;
  if (p.path === undefined) return true;
  return u.pathname === p.path && u.search === p.search;
}

/**
 * Builds the matcher for the configured entries; throws AllowlistEntryError
 * for an entry that is neither a URI nor a pattern of the documented shape.
 * Undefined when the list is empty (no restriction).
 */
export function compileRedirectUriAllowlist(entries: readonly string[]): RedirectUriAllowlist | undefined {
  if (entries.length === 0) return undefined;
  const exact = new Set<string>();
  const patterns: Pattern[] = [];
  for (const entry of entries) {
    if (!entry.includes('*')) {
      if (!parse(entry)) throw new AllowlistEntryError(`${JSON.stringify(entry)} is not an absolute URI`);
      exact.add(entry);
    } else {
      patterns.push(compilePattern(entry));
    }
  }
  return uri => exact.has(uri) || patterns.some(p => matchesPattern(p, uri));
}

/** The first of `uris` the allowlist refuses, or undefined when all pass (or there is no allowlist). */
export function firstRefusedRedirectUri(allowlist: RedirectUriAllowlist | undefined, uris: readonly string[]): string | undefined {
  if (!allowlist) return undefined;
  return uris.find(u => !allowlist(u));
}

/**
 * Registration and metadata-document step: refuses a client with a redirect
 * URI outside `ALLOWED_CLIENT_REDIRECT_URIS` (`invalid_redirect_uri`, RFC 7591
 * §3.2.2), with an audit line naming the URI (never a secret).
 */
export function refuseUnlistedRedirectUris(
  ctx: Pick<AsContext, 'redirectUriAllowlist' | 'log'>,
  uris: readonly string[],
  client: { source: 'dynamic_registration' | 'metadata_document'; clientId?: string }
): void {
  const refused = firstRefusedRedirectUri(ctx.redirectUriAllowlist, uris);
  if (refused === undefined) return;
  ctx.log.warn(
    { event: 'client_redirect_uri_refused', source: client.source, clientId: client.clientId, redirectUri: refused.slice(0, 300) },
    'client refused: redirect URI outside ALLOWED_CLIENT_REDIRECT_URIS'
  );
  throw new OAuthError('invalid_redirect_uri', { reason: 'redirect URI outside ALLOWED_CLIENT_REDIRECT_URIS' });
}
