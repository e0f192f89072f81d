/**
 * Provider profiles (`AUTH_PROVIDER`): what differs between identity
 * providers, set by configuration alone (the table below is the source for
 * the provider documentation). A profile says which strategies the provider
 * supports, whether JWTs carry `typ: at+jwt`, how the token is bound to this
 * server (usually `aud`; Cognito: `client_id`), and extra claim checks.
 *
 * | provider | strategies            | audience check                 | notes |
 * |----------|-----------------------|--------------------------------|-------|
 * | generic  | introspection, jwt    | `aud` = TOKEN_AUDIENCE         | RFC 9068: header `typ` must be `at+jwt` |
 * | okta     | introspection, jwt    | `aud` (custom AS: api://default) | introspection with Basic; JWT scopes in `scp` (array) |
 * | auth0    | jwt                   | `aud` = API identifier (TOKEN_AUDIENCE, default the MCP URL) | issuer ends with "/"; no introspection |
 * | entra    | jwt                   | `aud` = api://… or app id      | v2 issuer login.microsoftonline.com/{tenant}/v2.0; `scp`; `ver` 2.0 |
 * | cognito  | jwt                   | `client_id` = COGNITO_CLIENT_ID | no `aud` in access tokens; `token_use` must be `access` |
 * | keycloak | introspection, jwt    | `aud` (add an audience mapper) | payload `typ` must be `Bearer` (refuses ID tokens) |
 */
import type { JWTPayload } from 'jose';

import { ConfigError, type Config } from '../config.js';
import type { ExpectedAudience } from './claims.js';
import { InvalidTokenError } from './token-validator.js';

export type ProviderName = Config['external']['provider'];
export type Strategy = 'introspection' | 'jwt';

export interface ProviderProfile {
  readonly name: ProviderName;
  /** Strategies the provider supports, in the order `TOKEN_VALIDATION=auto` prefers them. */
  readonly strategies: readonly Strategy[];
  /** Required JWT header `typ`, when the provider sets one. */
  readonly jwtTyp?: string;
  /**
   * Expected `aud`: `TOKEN_AUDIENCE` when set (the one audience, whichever
   * endpoint, /sse included); otherwise the MCP URL or the legacy HTTP+SSE URL
   * of this server. `undefined` when the profile binds tokens to us another way.
   */
  readonly audience: ExpectedAudience | undefined;
  /** Provider-specific checks on a verified JWT payload or an introspection answer. */
  checkClaims(claims: JWTPayload | Record<string, unknown>): void;
}

const ENTRA_V2_ISSUER = /^https:\/\/login\.microsoftonline\.com\/[^/]+\/v2\.0$/;

/** Builds the profile for `config.external.provider`, or throws `ConfigError` naming the variable to fix. */
export function providerProfile(config: Config): ProviderProfile {
  const ext = config.external;
  const audience: ExpectedAudience = ext.audience ?? [config.mcpUrl, config.legacySseUrl];
  const issuer = config.issuer;
  const none = () => undefined;

  switch (ext.provider) {
    case 'generic':
      return { name: 'generic', strategies: ['introspection', 'jwt'], jwtTyp: 'at+jwt', audience, checkClaims: none };

    case 'okta':
      return { name: 'okta', strategies: ['introspection', 'jwt'], audience, checkClaims: none };

    case 'auth0':
      if (!issuer.endsWith('/')) {
        throw new ConfigError('AUTH_SERVER_URL', `Auth0 issuers end with "/" (e.g. https://your-tenant.auth0.com/); got ${issuer}.`);
      }
      return { name: 'auth0', strategies: ['jwt'], audience, checkClaims: none };

    case 'entra':
      if (!ENTRA_V2_ISSUER.test(issuer)) {
        throw new ConfigError('AUTH_SERVER_URL', `Entra ID needs the v2 issuer https://login.microsoftonline.com/{tenant-id}/v2.0; got ${issuer}.`);
      }
      return {
        name: 'entra',
        strategies: ['jwt'],
        audience,
        checkClaims(claims) {
          // v1 tokens have another issuer and are refused by `iss`; check `ver` too when present.
          if (claims.ver !== undefined && claims.ver !== '2.0') throw new InvalidTokenError('token_version');
        }
      };

    case 'cognito': {
      const clientId = ext.cognitoClientId;
      if (!clientId) throw new ConfigError('COGNITO_CLIENT_ID', 'is required with AUTH_PROVIDER=cognito: set it to the app client id.');
      return {
        name: 'cognito',
        strategies: ['jwt'],
        // Cognito access tokens have no `aud`: the app client id binds them to us.
        audience: undefined,
        checkClaims(claims) {
          if (claims.token_use !== 'access') throw new InvalidTokenError('token_use');
          if (claims.client_id !== clientId) throw new InvalidTokenError('client_id');
        }
      };
    }

    case 'keycloak':
      return {
        name: 'keycloak',
        strategies: ['introspection', 'jwt'],
        audience,
        checkClaims(claims) {
          // Keycloak ID and refresh tokens are signed with the same keys: only `typ: Bearer` is an access token.
          if (claims.typ !== undefined && claims.typ !== 'Bearer') throw new InvalidTokenError('token_type');
        }
      };
  }
}
