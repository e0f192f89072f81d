/**
 * The one small interface through which the resource server reaches the
 * person's identity-provider account (DESIGN.md "second seam": tools that act
 * for the user use the sealed upstream token server-side). The AS implements
 * it; the composition root (src/app.ts) hands it to the MCP server. Keyed by
 * OUR access token, already validated by the bearer gate; the provider's
 * token itself never crosses this interface.
 */

/** Who signed in, as the identity provider said. */
export interface UpstreamIdentityView {
  /** `mock`, `oidc`, `google`, `entra`, `okta`, `auth0`, `keycloak`, `cognito`, `github`. */
  provider: string;
  issuer: string;
  /** The provider's subject (OIDC `sub`, GitHub id). */
  subject: string;
  email?: string;
  emailVerified?: boolean;
  name?: string;
  /** GitHub login / `preferred_username`. */
  login?: string;
}

export type UpstreamProfileResult =
  | { ok: true; provider: string; profile: Record<string, unknown> }
  /**
   * `no_upstream_token`: the grant holds no provider token (demo IdP, or it was refused/revoked);
   * `unavailable`: the provider could not be reached; `refused`: the provider refused the call.
   */
  | { ok: false; error: 'no_upstream_token' | 'unavailable' | 'refused'; message: string };

export interface UpstreamAccount {
  /** The identity behind our access token, or undefined (unknown token, no identity recorded). */
  identity(accessToken: string): Promise<UpstreamIdentityView | undefined>;
  /** Calls the provider's userinfo (GitHub: `/user`) with the stored token, refreshing it when needed. */
  profile(accessToken: string): Promise<UpstreamProfileResult>;
}
