/**
 * Redirect URI rules, shared by registration, client metadata documents and
 * the authorization endpoint.
 *
 * - Allowed: `https://…`, or `http://` on a loopback host (127.0.0.1, [::1],
 *   localhost) for native apps (RFC 8252 §7.3, OAuth 2.1 §2.3.1). No
 *   fragment (RFC 6749 §3.1.2), no userinfo.
 * - Matching is exact string comparison (OAuth 2.1 §4.1.3), except that the
 *   port of an http loopback redirect URI may vary (RFC 8252 §7.3): native
 *   apps get an ephemeral port from the OS at run time.
 */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function parse(uri: string): URL | undefined {
  try {
    return new URL(uri);
  } catch {
    return undefined;
  }
}

export function isLoopbackRedirect(uri: string): boolean {
  const u = parse(uri);
  return !!u && u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname);
}

/** Why `uri` may not be registered, or undefined when it may. */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length > 2000) return 'too long';
  const u = parse(uri);
  if (!u) return 'not an absolute URI';
  if (uri.includes('#')) return 'has a fragment';
  if (u.username || u.password) return 'has userinfo';
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname)) return undefined;
  return 'must be https, or http on a loopback host';
}

/** Does the presented redirect URI match this registered one? */
export function redirectUriMatches(registered: string, presented: string): boolean {
  if (registered === presented) return true;
  const r = parse(registered);
  const p = parse(presented);
  if (!r || !p || presented.includes('#') || p.username || p.password) return false;
  if (r.protocol !== 'http:' || p.protocol !== 'http:' || !LOOPBACK_HOSTS.has(r.hostname)) return false;
  // RFC 8252 §7.3: any port, everything else identical.
  const withoutPort = (u: URL) => {
    const c = new URL(u.href);
    c.port = '';
    return c.href;
  };
  return r.hostname === p.hostname && withoutPort(r) === withoutPort(p) && presented === p.href;
}

/** The registered URI the presented one matches, if any. */
export function findRedirectUri(registered: readonly string[], presented: string): string | undefined {
  return registered.find(r => redirectUriMatches(r, presented));
}
