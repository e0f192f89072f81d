/**
 * What differs between OpenID Connect providers, kept out of oidc.ts
 * (docs/providers.md explains each quirk and the console steps).
 *
 * Common to all: the MCP client's `resource` (RFC 8707) names OUR server and
 * is never forwarded (Entra's v2 endpoints refuse it outright); our tokens
 * never go upstream; the provider's `sub` identifies the person.
 */
import type { UpstreamConfig, UpstreamIdpKind } from '../../config.js';

export interface OidcPreset {
  displayName: string;
  /** Extra authorization-request parameters. */
  authorizationParams?(config: UpstreamConfig): Record<string, string>;
  /** Whether the provider vouches for the email address. */
  emailVerified?(claims: Record<string, unknown>): boolean | undefined;
}

/** `true`, or the string "true" (Cognito sends strings). */
const truthy = (v: unknown): boolean | undefined => (v === true || v === 'true' ? true : v === false || v === 'false' ? false : undefined);

export const OIDC_PRESETS: Partial<Record<UpstreamIdpKind, OidcPreset>> = {
  oidc: { displayName: 'OpenID Connect provider' },
  google: {
    displayName: 'Google',
    authorizationParams: config => ({
      // Google issues a refresh token only for access_type=offline, and only on a consent prompt.
      access_type: 'offline',
      prompt: 'consent',
      // A hint for the account chooser only: the `hd` claim is checked after sign-in (sign-in.ts checkAllowed).
      ...(config.allowedDomains.length === 1 ? { hd: config.allowedDomains[0]! } : {})
    })
  },
  entra: {
    displayName: 'Microsoft Entra ID',
    // Entra sends no email_verified; `xms_edov` (optional claim) says the domain owner verified it.
    emailVerified: claims => truthy(claims.email_verified) ?? truthy(claims.xms_edov)
  },
  okta: { displayName: 'Okta' },
  auth0: { displayName: 'Auth0' },
  keycloak: { displayName: 'Keycloak' },
  cognito: { displayName: 'Amazon Cognito' }
};

export function emailVerifiedOf(preset: OidcPreset, claims: Record<string, unknown>): boolean | undefined {
  return preset.emailVerified ? preset.emailVerified(claims) : truthy(claims.email_verified);
}
