/**
 * Claim helpers shared by every validator, so that the three strategies read
 * `aud`, `scope`/`scp` and `sub` the same way and refuse the same tokens.
 */
import { InvalidTokenError } from './token-validator.js';

/** `aud` may be a string or an array of strings (RFC 7519 §4.1.3, RFC 7662 §2.2). */
export function audiencesOf(aud: unknown): string[] {
  if (typeof aud === 'string') return aud ? [aud] : [];
  if (Array.isArray(aud)) return aud.filter((a): a is string => typeof a === 'string' && a.length > 0);
  return [];
}

/**
 * The audience(s) a validator accepts: one value, or several URLs of the same
 * server (the MCP URL and the legacy HTTP+SSE URL); a token matching any one is accepted.
 */
export type ExpectedAudience = string | readonly string[];

/**
 * Compares a token audience with the expected one(s). Exact string
 * comparison, except that one trailing slash is ignored on either side: RFC
 * 8707 resources are URIs, and the MCP spec asks for the no-trailing-slash
 * form while some authorization servers append one.
 */
export function audienceMatches(audiences: readonly string[], expected: ExpectedAudience): boolean {
  const trim = (s: string) => (s.endsWith('/') ? s.slice(0, -1) : s);
  const wanted = typeof expected === 'string' ? [expected] : expected;
  return wanted.some(e => audiences.some(a => a === e || trim(a) === trim(e)));
}

/**
 * Scopes from `scope` (RFC 7662 / RFC 9068 §2.2.3: space-separated string) or
 * `scp` (Okta: array; Entra ID: space-separated string). Deduplicated.
 */
export function scopesOf(claims: { scope?: unknown; scp?: unknown }): string[] {
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === 'string') for (const s of v.split(' ')) if (s) out.add(s);
    if (Array.isArray(v)) for (const s of v) if (typeof s === 'string' && s) out.add(s);
  };
  add(claims.scope);
  add(claims.scp);
  return [...out];
}

/** Every validator refuses a token without a subject: session ownership depends on it (issue 5). */
export function requireSubject(sub: unknown): string {
  if (typeof sub !== 'string' || sub.length === 0) throw new InvalidTokenError('missing_sub');
  return sub;
}

/** The client the token was issued to, from the first claim a provider uses for it. */
export function clientIdOf(claims: Record<string, unknown>): string {
  for (const k of ['client_id', 'azp', 'cid', 'appid']) {
    const v = claims[k];
    if (typeof v === 'string' && v) return v;
  }
  return '';
}

/** Seconds since the epoch. */
export const epochSeconds = () => Math.floor(Date.now() / 1000);
