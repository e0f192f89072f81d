/**
 * Obtains an access token for the conformance run through the REAL OAuth
 * flow, using the project's test helper (test/helpers/oauth.ts, owned by the
 * authorization-server work): dynamic client registration, PKCE, consent,
 * the sign-in (the demo IdP's page, or, when the server runs with
 * UPSTREAM_IDP=oidc, the OpenID provider's login form driven over HTTP with
 * a cookie jar per origin) and the code exchange, all over plain HTTP against
 * the running server. Nothing here mints or fakes a token.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { PROJECT_ROOT } from './conformance-suite.js';

export const OAUTH_HELPER = join(PROJECT_ROOT, 'test', 'helpers', 'oauth.ts');

export interface ObtainedToken {
  accessToken: string;
  scope?: string;
  expiresIn?: number;
  /** How it was obtained, for the report. */
  via: string;
}

export class TokenUnavailableError extends Error {
  override readonly name = 'TokenUnavailableError';
}

interface OAuthHelper {
  obtainTokens(baseUrl: string, opts?: { scope?: string; identity?: string; clientName?: string }): Promise<{
    accessToken: string;
    scope: string;
    expiresIn: number;
    clientId: string;
  }>;
}

/**
 * Runs the whole flow against `baseUrl` (the server's public origin, which is
 * also the issuer in internal mode) for the demo identity `identity`.
 */
export async function obtainAccessToken(baseUrl: string, scope: string, identity = 'alice'): Promise<ObtainedToken> {
  if (!existsSync(OAUTH_HELPER)) {
    throw new TokenUnavailableError(`${OAUTH_HELPER} does not exist yet: no way to run the real OAuth flow`);
  }
  const helper = (await import(pathToFileURL(OAUTH_HELPER).href)) as Partial<OAuthHelper>;
  if (typeof helper.obtainTokens !== 'function') {
    throw new TokenUnavailableError(`test/helpers/oauth.ts has no obtainTokens(baseUrl, { scope }) export`);
  }
  const t = await helper.obtainTokens(baseUrl, { scope, identity, clientName: 'MCP conformance runner' });
  const granted = new Set(t.scope.split(' ').filter(Boolean));
  const missing = scope.split(' ').filter(s => s && !granted.has(s));
  if (missing.length) throw new TokenUnavailableError(`the authorization server granted "${t.scope}", missing ${missing.join(' ')}`);
  return {
    accessToken: t.accessToken,
    scope: t.scope,
    expiresIn: t.expiresIn,
    via: `DCR client ${t.clientId}, PKCE S256, consent approved, identity "${identity}" signed in at the server's identity provider (demo IdP, or the OpenID provider's login form with UPSTREAM_IDP), authorization_code exchange (test/helpers/oauth.ts)`
  };
}
