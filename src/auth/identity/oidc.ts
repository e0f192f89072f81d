/**
 * Any OpenID Connect provider (`UPSTREAM_IDP=oidc` and the presets google,
 * entra, okta, auth0, keycloak, cognito), as a relying party built on
 * `openid-client` v6 (panva, certified). Every check is named at its call:
 *
 *   discovery        exact issuer match (openid-client compares the document's
 *                    `issuer` with UPSTREAM_ISSUER); lazy and retried, so an
 *                    unreachable provider at start-up does not stop us
 *   begin            authorization code + PKCE S256 (the verifier stays here),
 *                    `state` (from the AS), `nonce`
 *   complete         authorizationCodeGrant: state, RFC 9207 `iss` when sent,
 *                    PKCE, ID token `iss`/`aud`/`exp`/`nonce`; then the ID
 *                    token's signature against the provider's JWKS (jose,
 *                    re-fetched when the `kid` is unknown); userinfo when the
 *                    ID token lacks email or name
 *   refresh          refreshTokenGrant
 *   userinfo         fetchUserInfo (the `sub` must be the signed-in person's)
 *
 * Every call to the provider is bounded by UPSTREAM_TIMEOUT.
 */
import * as client from 'openid-client';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';

import type { UpstreamConfig } from '../../config.js';
import type { Logger } from '../../logger.js';
import { emailVerifiedOf, OIDC_PRESETS } from './oidc-presets.js';
import { UpstreamError, type IdentityProvider, type UpstreamIdentity, type UpstreamTokens } from './provider.js';

export interface OidcProviderOptions {
  config: UpstreamConfig;
  /** Our redirect URI at the provider: `{issuer}/upstream-idp/callback`. */
  redirectUri: string;
  log: Logger;
}

/** After a failed discovery, sign-ins fail at once for this long before discovery is tried again. */
const DISCOVERY_RETRY_MS = 5_000;

/** Asymmetric algorithms accepted for ID-token signatures. */
const ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Maps whatever the provider or the network did to one UpstreamError. */
export function classify(err: unknown, during: string): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (err instanceof client.AuthorizationResponseError) {
    // The provider answered the authorization request with an error (RFC 6749 §4.1.2.1).
    if (err.error === 'temporarily_unavailable') return new UpstreamError('temporarily_unavailable', `provider: ${err.error}`, { cause: err });
    if (err.error === 'server_error') return new UpstreamError('temporarily_unavailable', `provider: ${err.error}`, { cause: err });
    if (['access_denied', 'login_required', 'consent_required', 'interaction_required', 'account_selection_required'].includes(err.error)) {
      return new UpstreamError('access_denied', `refused at the provider: ${err.error}`, { cause: err });
    }
    return new UpstreamError('server_error', `provider answered ${err.error.slice(0, 40)} (configuration?)`, { cause: err });
  }
  if (err instanceof client.ResponseBodyError) {
    if (err.status === 401 && during === 'userinfo') return new UpstreamError('invalid_token', 'provider refused the access token', { cause: err });
    if (err.status >= 500) return new UpstreamError('temporarily_unavailable', `${during}: provider HTTP ${err.status}`, { cause: err });
    if (during === 'refresh' && err.error === 'invalid_grant') return new UpstreamError('access_denied', 'provider refused the refresh token', { cause: err });
    return new UpstreamError('server_error', `${during}: provider error ${err.error.slice(0, 40)}`, { cause: err });
  }
  if (err instanceof client.WWWAuthenticateChallengeError) {
    return err.response.status === 401
      ? new UpstreamError('invalid_token', `${during}: provider refused the access token`, { cause: err })
      : new UpstreamError('server_error', `${during}: provider challenge ${err.response.status}`, { cause: err });
  }
  if (err instanceof joseErrors.JWKSTimeout) return new UpstreamError('temporarily_unavailable', 'provider JWKS timed out', { cause: err });
  if (err instanceof joseErrors.JOSEError) return new UpstreamError('access_denied', `invalid ID token: ${err.code}`, { cause: err });
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string') {
    // openid-client / oauth4webapi processing errors on the ID token or the response.
    if (/JWT_CLAIM_COMPARISON|JWT_TIMESTAMP_CHECK|KEY_SELECTION|JWS_SIGNATURE|INVALID_RESPONSE|JSON_ATTRIBUTE_COMPARISON/.test(code) && during === 'code exchange') {
      return new UpstreamError('access_denied', `invalid ID token or token response: ${code}`, { cause: err });
    }
    if (/RESPONSE_IS_NOT_CONFORM/.test(code)) {
      const status = ((err as { cause?: { status?: number } }).cause?.status ?? 0);
      if (status === 401 && during === 'userinfo') return new UpstreamError('invalid_token', 'provider refused the access token', { cause: err });
      if (status >= 500) return new UpstreamError('temporarily_unavailable', `${during}: provider HTTP ${status}`, { cause: err });
    }
  }
  // Network failures and timeouts, however deep openid-client wrapped them.
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const name = (e as { name?: string }).name;
    if (e instanceof TypeError || name === 'AbortError' || name === 'TimeoutError') {
      return new UpstreamError('temporarily_unavailable', `${during}: provider unreachable or too slow`, { cause: err });
    }
  }
  return new UpstreamError('server_error', `${during}: ${typeof code === 'string' ? code : 'unexpected provider answer'}`, { cause: err });
}

/** How we authenticate at the provider's token endpoint (`UPSTREAM_TOKEN_AUTH_METHOD`). Shared with github.ts. */
export function clientAuthentication(config: Pick<UpstreamConfig, 'tokenAuthMethod' | 'clientSecret'>): client.ClientAuth {
  if (config.tokenAuthMethod === 'none') return client.None();
  return config.tokenAuthMethod === 'client_secret_post' ? client.ClientSecretPost(config.clientSecret) : client.ClientSecretBasic(config.clientSecret);
}

/** A token-endpoint response as the tokens we keep (expiry as a timestamp). Shared with github.ts. */
export function tokensOf(t: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers): UpstreamTokens {
  const expiresIn = t.expiresIn();
  return {
    accessToken: t.access_token,
    refreshToken: t.refresh_token,
    expiresAt: expiresIn === undefined ? undefined : Date.now() + expiresIn * 1000,
    scope: t.scope
  };
}

export function createOidcIdentityProvider(options: OidcProviderOptions): IdentityProvider {
  const { config, redirectUri, log } = options;
  const preset = OIDC_PRESETS[config.kind] ?? OIDC_PRESETS.oidc!;
  const issuer = new URL(config.issuer!);
  const timeoutSeconds = config.timeoutMs / 1000;

  const clientAuth = clientAuthentication(config);

  let authorizationOrigin: string | undefined;
  /** The last discovery failure: repeated at once for a few seconds, so a dead provider does not hold every /authorize for UPSTREAM_TIMEOUT. */
  let lastFailure: { at: number; error: UpstreamError } | undefined;
  let discovered: Promise<{ rp: client.Configuration; jwks: ReturnType<typeof createRemoteJWKSet> }> | undefined;
  /** Discovery once it succeeds; retried on the next call while it fails. */
  const setup = () => {
    if (!discovered && lastFailure && Date.now() - lastFailure.at < DISCOVERY_RETRY_MS) return Promise.reject(lastFailure.error);
    return (discovered ??= (async () => {
      const rp = await client.discovery(issuer, config.clientId!, { client_secret: config.clientSecret, redirect_uris: [redirectUri], response_types: ['code'] }, clientAuth, {
        timeout: timeoutSeconds,
        // http issuers are refused in production by src/config.ts; allowed for local providers in development.
        execute: issuer.protocol === 'http:' ? [client.allowInsecureRequests] : []
      });
      rp.timeout = timeoutSeconds;
      const jwksUri = rp.serverMetadata().jwks_uri;
      if (!jwksUri) throw new UpstreamError('server_error', 'provider metadata has no jwks_uri');
      // ID tokens reach us only from the token endpoint (back channel), so an
      // unknown `kid` cannot be sent by a browser to make us fetch in a loop:
      // re-fetch the JWKS at once when a key rotated.
      const jwks = createRemoteJWKSet(new URL(jwksUri), { cooldownDuration: 0, timeoutDuration: config.timeoutMs, cacheMaxAge: 10 * 60 * 1000 });
      authorizationOrigin = new URL(rp.serverMetadata().authorization_endpoint!).origin;
      log.info({ event: 'upstream_discovered', provider: config.kind, issuer: issuer.href }, 'identity provider discovered');
      return { rp, jwks };
    })().catch(err => {
      discovered = undefined;
      const error = classify(err, 'discovery');
      lastFailure = { at: Date.now(), error };
      log.warn({ event: 'upstream_discovery_failed', provider: config.kind, issuer: issuer.href, reason: error.reason }, 'identity provider discovery failed; retrying on the next sign-in');
      throw error;
    }));
  };

  async function verifyIdTokenSignature(idToken: string, rp: client.Configuration, jwks: ReturnType<typeof createRemoteJWKSet>): Promise<void> {
    await jwtVerify(idToken, jwks, { issuer: rp.serverMetadata().issuer, audience: config.clientId!, algorithms: ID_TOKEN_ALGORITHMS });
  }

  return {
    kind: config.kind,
    displayName: preset.displayName,

    async begin(pending) {
      const { rp } = await setup();
      const verifier = client.randomPKCECodeVerifier();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(rp, {
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: config.scopes.join(' '),
        state: pending.state,
        nonce,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        ...preset.authorizationParams?.(config)
      });
      return { redirectTo: url.href, checks: { verifier, nonce, state: pending.state } };
    },

    async complete({ url, checks }) {
      const { rp, jwks } = await setup();
      let identity: UpstreamIdentity;
      let tokens: UpstreamTokens;
      try {
        const response = await client.authorizationCodeGrant(rp, url, {
          pkceCodeVerifier: checks.verifier,
          expectedNonce: checks.nonce,
          expectedState: checks.state,
          idTokenExpected: true
        });
        await verifyIdTokenSignature(response.id_token!, rp, jwks);
        const claims = response.claims()! as Record<string, unknown> & { sub: string };
        tokens = tokensOf(response);
        let merged: Record<string, unknown> = claims;
        if ((claims.email === undefined || claims.name === undefined) && rp.serverMetadata().userinfo_endpoint) {
          try {
            const info = await client.fetchUserInfo(rp, response.access_token, claims.sub);
            merged = { ...info, ...claims, email: claims.email ?? info.email, email_verified: claims.email_verified ?? info.email_verified, name: claims.name ?? info.name };
          } catch (err) {
            throw classify(err, 'userinfo');
          }
        }
        identity = {
          provider: config.kind,
          issuer: rp.serverMetadata().issuer,
          subject: claims.sub,
          email: typeof merged.email === 'string' ? merged.email : undefined,
          emailVerified: emailVerifiedOf(preset, merged),
          name: typeof merged.name === 'string' ? merged.name : undefined,
          login: typeof merged.preferred_username === 'string' ? merged.preferred_username : undefined,
          hostedDomain: typeof merged.hd === 'string' ? merged.hd : undefined
        };
      } catch (err) {
        throw classify(err, 'code exchange');
      }
      return { identity, tokens };
    },

    async refresh(tokens) {
      const { rp } = await setup();
      try {
        return tokensOf(await client.refreshTokenGrant(rp, tokens.refreshToken!));
      } catch (err) {
        throw classify(err, 'refresh');
      }
    },

    async userinfo(accessToken, subject) {
      const { rp } = await setup();
      if (!rp.serverMetadata().userinfo_endpoint) throw new UpstreamError('server_error', 'provider has no userinfo endpoint');
      try {
        return { ...(await client.fetchUserInfo(rp, accessToken, subject)) };
      } catch (err) {
        throw classify(err, 'userinfo');
      }
    },

    async ready() {
      await setup();
    },

    navigationOrigins: () => (authorizationOrigin ? [authorizationOrigin] : [])
  };
}
