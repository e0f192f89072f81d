/**
 * External mode (`AUTH_MODE=external`): builds the validator for the
 * authorization server at `AUTH_SERVER_URL`, choosing the strategy from
 * configuration and from what the AS advertises:
 *
 *   TOKEN_VALIDATION=introspection -> RFC 7662 (needs an introspection endpoint and client credentials)
 *   TOKEN_VALIDATION=jwt           -> RFC 9068 against `jwks_uri`
 *   TOKEN_VALIDATION=auto          -> introspection when the provider supports it, an endpoint is known
 *                                     (INTROSPECTION_ENDPOINT or `introspection_endpoint`) and
 *                                     INTROSPECTION_CLIENT_ID/SECRET are set; otherwise JWT when
 *                                     `jwks_uri` is advertised; otherwise start-up fails saying why.
 *
 * Start-up order: check the configuration (provider profile), discover the AS
 * metadata, choose, build. A configuration problem stops start-up with a
 * `ConfigError` naming the variable. An AS that cannot be reached yet does
 * not: the RS starts, answers 503 + Retry-After, and retries discovery (at
 * most once per `discoveryRetryMs`) until the AS is back.
 */
import { ConfigError, type Config } from '../config.js';
import type { Logger } from '../logger.js';
import { DiscoveryUnavailableError, discoverAuthorizationServer, type DiscoveryResult } from './discovery.js';
import { createIntrospectionValidator } from './introspection.js';
import { createJwtValidator } from './jwt.js';
import { providerProfile, type ProviderProfile, type Strategy } from './providers.js';
import { ValidatorUnavailableError, type TokenValidator, type ValidatorStats } from './token-validator.js';

export interface ExternalValidatorOptions {
  config: Config;
  logger: Logger;
  /** Injected for tests. */
  fetch?: typeof fetch;
  /** Least time between two discovery attempts while the AS is unreachable, ms. Default 2000. */
  discoveryRetryMs?: number;
  /** Timeout of each discovery, introspection and JWKS request, ms. Default 5000. */
  timeoutMs?: number;
}

export async function createExternalValidator(options: ExternalValidatorOptions): Promise<TokenValidator> {
  const { config, logger } = options;
  const timeoutMs = options.timeoutMs ?? 5000;
  const retryMs = options.discoveryRetryMs ?? 2000;
  const profile = providerProfile(config);
  checkStrategyConfig(config, profile);

  let built: { validator: TokenValidator; discovery: DiscoveryResult } | undefined;
  let building: Promise<NonNullable<typeof built>> | undefined;
  let lastAttempt = 0;

  async function build(): Promise<NonNullable<typeof built>> {
    lastAttempt = Date.now();
    const discovery = await discoverAuthorizationServer(config.issuer, { timeoutMs, fetch: options.fetch });
    const strategy = chooseStrategy(config, profile, discovery);
    const validator = strategy === 'introspection' ? buildIntrospection(discovery) : buildJwt(discovery);
    logger.info(
      { strategy, provider: profile.name, issuer: config.issuer, audience: profile.audience ?? '(profile check)', metadata: discovery.url },
      'external token validation ready'
    );
    return { validator, discovery };
  }

  function buildIntrospection(d: DiscoveryResult): TokenValidator {
    const ext = config.external;
    const endpoint = ext.introspectionEndpoint ?? d.metadata.introspection_endpoint!;
    const methods = d.metadata.introspection_endpoint_auth_methods_supported;
    if (methods && !methods.includes(ext.authMethod)) {
      logger.warn({ advertised: methods, configured: ext.authMethod }, 'INTROSPECTION_AUTH_METHOD is not among the methods the AS advertises');
    }
    return createIntrospectionValidator({
      endpoint,
      clientId: ext.clientId!,
      clientSecret: ext.clientSecret!,
      authMethod: ext.authMethod,
      issuer: config.issuer,
      audience: profile.audience,
      checkClaims: c => profile.checkClaims(c),
      cacheTtlSeconds: ext.cacheTtlSeconds,
      timeoutMs,
      logger,
      fetch: options.fetch
    });
  }

  function buildJwt(d: DiscoveryResult): TokenValidator {
    return createJwtValidator({
      issuer: config.issuer,
      jwksUri: d.metadata.jwks_uri!,
      audience: profile.audience,
      algorithms: config.external.algorithms,
      typ: profile.jwtTyp,
      checkClaims: c => profile.checkClaims(c),
      timeoutMs,
      logger
    });
  }

  /** Single-flight (re)build while the AS has not been reached yet. */
  async function current(): Promise<TokenValidator> {
    if (built) return built.validator;
    if (!building) {
      if (Date.now() - lastAttempt < retryMs) throw new ValidatorUnavailableError('Authorization server not reachable yet', Math.ceil(retryMs / 1000));
      building = build().finally(() => (building = undefined));
    }
    try {
      built = await building;
      return built.validator;
    } catch (err) {
      if (!(err instanceof DiscoveryUnavailableError)) logger.error({ err: { name: (err as Error).name, message: (err as Error).message } }, 'external token validation cannot be set up');
      throw new ValidatorUnavailableError('Authorization server not reachable', Math.max(1, Math.ceil(retryMs / 1000)), { cause: err });
    }
  }

  // At start-up: configuration mistakes stop the process; an unreachable AS does not.
  try {
    built = await build();
  } catch (err) {
    if (!(err instanceof DiscoveryUnavailableError)) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError('AUTH_SERVER_URL', `${(err as Error).message}. Check AUTH_SERVER_URL (it must equal the AS "issuer" exactly).`);
    }
    logger.warn({ issuer: config.issuer, reason: err.message }, 'authorization server not reachable at start-up; answering 503 and retrying discovery');
  }

  return {
    get strategy() {
      return built?.validator.strategy;
    },
    async validate(token) {
      return (await current()).validate(token);
    },
    stats(): ValidatorStats {
      return built?.validator.stats?.() ?? { validations: 0 };
    },
    async ready() {
      const v = await current();
      if (v.ready) return v.ready();
      // Introspection: the AS answers its metadata URL.
      const url = built!.discovery.url;
      try {
        const res = await (options.fetch ?? fetch)(url, { signal: AbortSignal.timeout(timeoutMs) });
        await res.body?.cancel().catch(() => undefined);
        if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      } catch (err) {
        throw new ValidatorUnavailableError('Authorization server not reachable', 5, { cause: err });
      }
    },
    async close() {
      await built?.validator.close?.();
    }
  };
}

/** Checks that need no network: fail at start-up, naming the variable. */
function checkStrategyConfig(config: Config, profile: ProviderProfile): void {
  const ext = config.external;
  if (ext.validation === 'introspection') {
    if (!profile.strategies.includes('introspection')) {
      throw new ConfigError('TOKEN_VALIDATION', `${profile.name} offers no token introspection; use TOKEN_VALIDATION=jwt (or auto).`);
    }
    if (!ext.clientId || !ext.clientSecret) {
      throw new ConfigError('INTROSPECTION_CLIENT_ID', 'and INTROSPECTION_CLIENT_SECRET are required with TOKEN_VALIDATION=introspection (the credentials this server uses at the AS introspection endpoint).');
    }
  }
  if (ext.clientId && !ext.clientSecret) {
    throw new ConfigError('INTROSPECTION_CLIENT_SECRET', 'is required when INTROSPECTION_CLIENT_ID is set.');
  }
}

/** Picks the strategy once the metadata is known (see the table at the top). */
export function chooseStrategy(config: Config, profile: ProviderProfile, d: DiscoveryResult): Strategy {
  const ext = config.external;
  const endpoint = ext.introspectionEndpoint ?? d.metadata.introspection_endpoint;
  const creds = Boolean(ext.clientId && ext.clientSecret);
  const jwks = d.metadata.jwks_uri;
  switch (ext.validation) {
    case 'introspection':
      if (!endpoint) throw new ConfigError('INTROSPECTION_ENDPOINT', `the AS at ${config.issuer} advertises no introspection_endpoint; set INTROSPECTION_ENDPOINT.`);
      return 'introspection';
    case 'jwt':
      if (!jwks) throw new ConfigError('TOKEN_VALIDATION', `the AS at ${config.issuer} advertises no jwks_uri, so JWTs cannot be verified; use TOKEN_VALIDATION=introspection.`);
      return 'jwt';
    case 'auto':
      if (profile.strategies.includes('introspection') && endpoint && creds) return 'introspection';
      if (profile.strategies.includes('jwt') && jwks) return 'jwt';
      throw new ConfigError(
        'TOKEN_VALIDATION',
        endpoint
          ? `the AS at ${config.issuer} offers introspection but no jwks_uri: set INTROSPECTION_CLIENT_ID and INTROSPECTION_CLIENT_SECRET.`
          : `the AS at ${config.issuer} advertises neither a usable introspection_endpoint nor a jwks_uri.`
      );
  }
}
