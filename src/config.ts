/**
 * Configuration: the only module that interprets environment variables
 * (STYLE.md habit 6). `loadConfig(env)` validates everything at start-up and
 * throws `ConfigError` naming the variable and the fix; components receive
 * typed option objects and never read `process.env` themselves.
 *
 * Every variable, its default and its meaning is listed in README.md and
 * `.env.example`; keep the three in step.
 */
import { devNull } from 'node:os';

import { z } from 'zod';

import type { TracingOptions } from './observability/tracing.js';

export type AuthMode = 'internal' | 'external' | 'auth_server';

/** Who signs the person in (`UPSTREAM_IDP`): the demo IdP, any OpenID Connect provider, a preset of one, or GitHub. */
export const UPSTREAM_IDP_KINDS = ['mock', 'oidc', 'google', 'entra', 'okta', 'auth0', 'keycloak', 'cognito', 'github'] as const;
export type UpstreamIdpKind = (typeof UPSTREAM_IDP_KINDS)[number];
/** The kinds that speak OpenID Connect (discovery, ID token) through openid-client. */
export const OIDC_KINDS: readonly UpstreamIdpKind[] = ['oidc', 'google', 'entra', 'okta', 'auth0', 'keycloak', 'cognito'];

/** `UPSTREAM_SCOPES` when unset, per kind (docs/providers.md says why each). */
export const DEFAULT_UPSTREAM_SCOPES: Record<UpstreamIdpKind, string> = {
  mock: '',
  oidc: 'openid email profile',
  // Google issues refresh tokens on access_type=offline (sent by the preset), not on a scope.
  google: 'openid email profile',
  entra: 'openid email profile offline_access',
  okta: 'openid email profile offline_access',
  auth0: 'openid email profile offline_access',
  keycloak: 'openid email profile',
  // Cognito issues refresh tokens without offline_access (and refuses that scope).
  cognito: 'openid email profile',
  github: 'read:user user:email'
};

/** Issuer of presets with a fixed one. */
const PRESET_ISSUERS: Partial<Record<UpstreamIdpKind, string>> = { google: 'https://accounts.google.com' };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
  }
}

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', ''])
  .transform(v => ['1', 'true', 'yes', 'on'].includes(v));

const seconds = z.coerce.number().int().positive();
/** Seconds, fractions allowed (e.g. 0.5): for intervals that tests shorten. */
const positiveSeconds = z.coerce.number().positive().max(365 * 24 * 3600);

const Env = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  AUTH_MODE: z.enum(['internal', 'external', 'auth_server']).default('internal'),
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  HOST: z.string().default('127.0.0.1'),
  BASE_URI: z.string().url().optional(),
  AUTH_SERVER_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  REDIS_URL: z.string().optional(),
  REDIS_CLUSTER_NODES: z.string().optional(),
  REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(16).optional(),
  REDIS_WAIT_TIMEOUT_MS: z.coerce.number().int().min(1).max(1500).default(500),
  REDIS_TLS: bool.default(false),
  REDIS_PASSWORD: z.string().optional(),

  ACCESS_TOKEN_TTL: seconds.default(3600),
  REFRESH_TOKEN_TTL: seconds.default(7 * 24 * 3600),
  AUTH_CODE_TTL: seconds.default(600),
  CLIENT_REGISTRATION_TTL: seconds.default(30 * 24 * 3600),
  REFRESH_GRACE_SECONDS: z.coerce.number().int().min(0).max(60).default(10),

  RATE_LIMIT_WINDOW: seconds.default(60),
  RATE_LIMIT_MAX: seconds.default(300),
  TRUST_PROXY: z.string().default(''),

  ALLOWED_HOSTS: z.string().default(''),
  ALLOWED_ORIGINS: z.string().default(''),
  MAX_BODY_BYTES: seconds.default(1024 * 1024),

  CIMD_ALLOW_LOOPBACK: bool.default(false),
  ALLOWED_CLIENT_REDIRECT_URIS: z.string().default(''),
  MAX_SESSIONS: seconds.default(2000),
  MAX_SESSIONS_PER_SUBJECT: seconds.default(50),
  MAX_SESSIONS_PER_CLIENT: seconds.default(1000),
  MAX_STREAMS: seconds.default(4000),
  MAX_STREAMS_PER_SUBJECT: seconds.default(50),
  MAX_STREAMS_PER_CLIENT: seconds.default(1000),
  EXAMPLE_APPS_PUBLIC: bool.default(false),
  EXAMPLE_APPS_SYSTEM_MONITOR_REAL: bool.default(false),
  EXAMPLE_APPS_DEBUG_LOG_FILE: z.string().min(1).default(devNull),
  MCP_REQUEST_STATE_KEY: z.string().optional(),
  SESSION_IDLE_TIMEOUT: positiveSeconds.default(1800),
  RESOURCE_UPDATE_INTERVAL: positiveSeconds.default(10),
  LOG_MESSAGE_INTERVAL: positiveSeconds.default(15),
  CLIENT_TEST_MAX_RESULT_BYTES: z.coerce.number().int().min(1024).max(100 * 1024 * 1024).default(10 * 1024 * 1024),
  CLIENT_TEST_MAX_DURATION: positiveSeconds.max(600).default(30),
  CLIENT_TEST_FAULTS_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(60),
  TASKS_TTL: positiveSeconds.default(3600),
  TASKS_MAX_PER_SUBJECT: z.coerce.number().int().positive().max(100_000).default(20),
  TASKS_MAX_LIVE: z.coerce.number().int().positive().max(10_000_000).default(1000),
  TASKS_LEASE_SECONDS: z.coerce.number().min(0.3).max(3600).default(30),
  MCP_RESOURCE_URL: z.string().url().optional(),
  ADMIN_TOKEN: z.string().min(32).optional(),
  INSTANCE_URL: z.string().url().optional(),
  INSTANCE_SECRET: z.string().optional(),

  TOKEN_AUDIENCE: z.string().optional(),
  TOKEN_VALIDATION: z.enum(['auto', 'introspection', 'jwt']).default('auto'),
  AUTH_PROVIDER: z.enum(['generic', 'okta', 'auth0', 'entra', 'cognito', 'keycloak']).default('generic'),
  INTROSPECTION_ENDPOINT: z.string().url().optional(),
  INTROSPECTION_CLIENT_ID: z.string().optional(),
  INTROSPECTION_CLIENT_SECRET: z.string().optional(),
  INTROSPECTION_AUTH_METHOD: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
  INTROSPECTION_CACHE_TTL: z.coerce.number().int().min(0).default(60),
  JWT_ALGORITHMS: z.string().default('RS256,ES256,PS256,EdDSA'),
  COGNITO_CLIENT_ID: z.string().optional(),

  // OpenTelemetry (standard variables; tracing is off unless they configure an exporter).
  OTEL_SDK_DISABLED: bool.default(false),
  OTEL_TRACES_EXPORTER: z.string().default(''),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().url().optional(),
  OTEL_EXPORTER_OTLP_HEADERS: z.string().default(''),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: z.string().default(''),
  OTEL_SERVICE_NAME: z.string().min(1).default('mcp-reference-server'),

  UPSTREAM_IDP: z.enum(UPSTREAM_IDP_KINDS).default('mock'),
  UPSTREAM_ISSUER: z.preprocess(v => (v === '' ? undefined : v), z.string().url().optional()),
  UPSTREAM_CLIENT_ID: z.string().optional(),
  UPSTREAM_CLIENT_SECRET: z.string().optional(),
  UPSTREAM_TOKEN_AUTH_METHOD: z.enum(['client_secret_basic', 'client_secret_post', 'none']).default('client_secret_basic'),
  UPSTREAM_SCOPES: z.string().optional(),
  UPSTREAM_GITHUB_URL: z.string().url().default('https://github.com'),
  UPSTREAM_TOKEN_KEY: z.string().optional(),
  UPSTREAM_ALLOWED_DOMAINS: z.string().default(''),
  UPSTREAM_ALLOWED_USERS: z.string().default(''),
  UPSTREAM_TIMEOUT: positiveSeconds.max(120).default(10)
});

/**
 * What one caller may hold at once on one instance, and the ceiling for all
 * (src/mcp/caller-limits.ts). The same shape serves every long-lived
 * resource: sessions, streams, tasks.
 */
export interface CallerLimits {
  /** Per token subject. */
  perSubject: number;
  /** Per OAuth client id. */
  perClient: number;
  /** Everyone together (503 beyond it). */
  total: number;
}

export interface Config {
  env: 'development' | 'production' | 'test';
  /** OpenTelemetry traces (src/observability/tracing.ts); `exporter` undefined: off. */
  tracing: TracingOptions;
  mode: AuthMode;
  /** Interface the HTTP server binds to. */
  host: string;
  port: number;
  /** Public origin of this process, no trailing slash (e.g. http://localhost:3232). */
  baseUri: string;
  /** Canonical MCP server URL (RFC 8707 resource, RFC 9728 `resource`). */
  mcpUrl: string;
  /**
   * URL of the deprecated 2024-11-05 HTTP+SSE endpoint (`GET /sse`), derived
   * from `mcpUrl` by `legacySseUrlFor` (same origin, sibling path `sse`). The
   * same protected resource reached through the other transport: its own
   * RFC 9728 document (SDK clients require `resource` to prefix the URL they
   * connect to), accepted by the AS as a `resource`, accepted by the RS as an
   * audience on every endpoint.
   */
  legacySseUrl: string;
  /** Issuer of the authorization server this process trusts or is. */
  issuer: string;
  logLevel: string;
  /** Enables the loopback-only admin endpoint used by `npm run admin -- --url` in memory mode (`ADMIN_TOKEN`). */
  adminToken?: string;
  /**
   * Shared storage. `clusterNodes` set: a Redis Cluster (`REDIS_CLUSTER_NODES`)
   * and `url` is its first seed (for messages); otherwise one Redis at `url`.
   */
  redis?: {
    url: string;
    tls: boolean;
    password?: string;
    clusterNodes?: string[];
    /** Replicas that must confirm tokens, clients and revocations before the answer (`REDIS_WAIT_REPLICAS`; default 1 on a cluster, 0 on one Redis). */
    waitReplicas: number;
    /** How long the answer waits for them, ms (`REDIS_WAIT_TIMEOUT_MS`). */
    waitTimeoutMs: number;
  };
  tokens: { accessTtl: number; refreshTtl: number; codeTtl: number; registrationTtl: number; refreshGraceSeconds: number };
  rateLimit: { windowSeconds: number; max: number };
  /** Express `trust proxy` value; empty = use the socket peer address. */
  trustProxy: string;
  allowedHosts: string[];
  allowedOrigins: string[];
  maxBodyBytes: number;
  cimdAllowLoopback: boolean;
  /**
   * `ALLOWED_CLIENT_REDIRECT_URIS` (comma or whitespace separated): exact URIs
   * or patterns (`http://localhost:*`, `https://*.example.com/callback`) every
   * redirect URI of a registration or metadata document must match. Empty =
   * no restriction beyond the general redirect URI rules. Compiled (and its
   * patterns checked) by the authorization server.
   */
  allowedClientRedirectUris: string[];
  /**
   * Per-instance limits on long-lived MCP resources (`MAX_SESSIONS*`,
   * `MAX_STREAMS*`): 2025-era sessions (Streamable HTTP and legacy /sse), and
   * open streams (GET /mcp, subscriptions/listen, legacy /sse).
   */
  limits: { sessions: CallerLimits; streams: CallerLimits };
  /** The MCP Apps gallery at `/<slug>/mcp` (src/gallery). */
  exampleApps: {
    /** `EXAMPLE_APPS_PUBLIC`: serve the apps without a token (default: each is an OAuth-protected resource of its own). */
    public: boolean;
    /** `EXAMPLE_APPS_SYSTEM_MONITOR_REAL`: system-monitor reports this machine (default: a simulated one). */
    systemMonitorReal: boolean;
    /** `EXAMPLE_APPS_DEBUG_LOG_FILE`: where the debug app appends its event log (default: the null device). */
    debugLogFile: string;
  };
  requestStateKey?: string;
  /** MCP side: session lifetime, demo activity intervals, and how instances reach each other. */
  mcp: {
    /** Close 2025-era sessions idle this long (`SESSION_IDLE_TIMEOUT`, seconds). */
    sessionIdleSeconds: number;
    /** Periodic `notifications/resources/updated` (`RESOURCE_UPDATE_INTERVAL`, seconds). */
    resourceUpdateIntervalSeconds: number;
    /** Periodic log messages to 2025-era sessions (`LOG_MESSAGE_INTERVAL`, seconds). */
    logMessageIntervalSeconds: number;
    /**
     * Base URL other instances use to reach this one (`INSTANCE_URL`, no
     * trailing slash). Undefined: `http://127.0.0.1:<port>` (derived by
     * src/mcp from the port actually bound).
     */
    instanceUrl?: string;
    /** Shared secret authenticating forwarded session requests between instances (`INSTANCE_SECRET`); undefined = forwarding off. */
    instanceSecret?: string;
    /** Bounds of the client-author test bench (src/mcp/client-testing, docs/client-testing.md). */
    clientTesting: {
      /** Largest result `largeResult` builds (`CLIENT_TEST_MAX_RESULT_BYTES`, bytes; default 10 MiB). */
      maxResultBytes: number;
      /** Longest delay, drip or flood a fault may take (`CLIENT_TEST_MAX_DURATION`, seconds → ms; default 30 s). */
      maxDurationMs: number;
      /** Faults one subject may trigger per minute (`CLIENT_TEST_FAULTS_PER_MINUTE`; default 60). */
      faultsPerMinute: number;
    };
    /**
     * Tasks (SEP-2663): lifetime of a task (`TASKS_TTL`, seconds), live tasks per subject (`TASKS_MAX_PER_SUBJECT`) and in all (`TASKS_MAX_LIVE`),
     * and the lease of an instance on the tasks it runs (`TASKS_LEASE_SECONDS`): after that long without renewal its unfinished tasks fail.
     */
    tasks?: { ttlSeconds: number; maxPerSubject: number; maxLive: number; leaseSeconds: number };
  };
  /**
   * The resource-server client the authorization server provisions at start
   * (auth_server and internal modes), from the same `INTROSPECTION_CLIENT_ID`
   * / `INTROSPECTION_CLIENT_SECRET` the MCP server uses in external mode. It
   * may introspect every token. Undefined when either variable is unset.
   */
  introspectionClient?: { clientId: string; clientSecret: string };
  /**
   * Who signs the person in (DESIGN.md "second seam"; docs/providers.md).
   * Our redirect URI at the provider is `{issuer}/upstream-idp/callback`.
   */
  upstream: UpstreamConfig;
  external: {
    /** Expected token audience (`TOKEN_AUDIENCE`); undefined = the canonical MCP URL. */
    audience?: string;
    validation: 'auto' | 'introspection' | 'jwt';
    provider: 'generic' | 'okta' | 'auth0' | 'entra' | 'cognito' | 'keycloak';
    introspectionEndpoint?: string;
    clientId?: string;
    clientSecret?: string;
    authMethod: 'client_secret_basic' | 'client_secret_post';
    cacheTtlSeconds: number;
    algorithms: string[];
    cognitoClientId?: string;
  };
}

export interface UpstreamConfig {
  kind: UpstreamIdpKind;
  /** OIDC kinds: the issuer, matched exactly against discovery (`UPSTREAM_ISSUER`; Google's is preset). */
  issuer?: string;
  clientId?: string;
  clientSecret?: string;
  tokenAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'none';
  /** Scopes asked of the provider (`UPSTREAM_SCOPES`, else the kind's default). */
  scopes: string[];
  /** GitHub or GitHub Enterprise Server base URL, no trailing slash. */
  githubUrl: string;
  /** 32-byte key (base64url) sealing upstream tokens at rest; undefined = the AS generates a development key. */
  tokenKey?: string;
  /** Verified email domains allowed to sign in (lower case); empty = any. */
  allowedDomains: string[];
  /** Emails or GitHub logins allowed to sign in (lower case); empty = any. */
  allowedUsers: string[];
  /** Bound on every call to the provider, ms. */
  timeoutMs: number;
}

const list = (s: string) =>
  s
    .split(',')
    .map(x => x.trim())
    .filter(Boolean);

const stripSlash = (s: string) => s.replace(/\/+$/, '');

/** `k1=v1,k2=v2` (W3C baggage-like, values percent-decoded), as the OTLP exporter variables spell headers. */
function otlpHeaders(variable: string, raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of list(raw)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(variable, `"${pair.slice(0, 40)}" is not key=value; write e.g. ${variable}=authorization=Bearer%20xyz.`);
    try {
      out[pair.slice(0, eq).trim()] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(variable, 'a value is not valid percent-encoding.');
    }
  }
  return out;
}

/**
 * Tracing is on when an exporter is configured: `OTEL_TRACES_EXPORTER=otlp`
 * or `console`, or (with `OTEL_TRACES_EXPORTER` unset) an OTLP endpoint.
 * `OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true` turn it off. Unlike
 * the SDK's own default (otlp), nothing configured means off: no process
 * sends anything anywhere unless asked to.
 */
function tracingConfig(e: z.infer<typeof Env>): TracingOptions {
  const base = { serviceName: e.OTEL_SERVICE_NAME };
  const names = list(e.OTEL_TRACES_EXPORTER.toLowerCase());
  const unknown = names.find(n => !['otlp', 'console', 'none'].includes(n));
  if (unknown) throw new ConfigError('OTEL_TRACES_EXPORTER', `"${unknown}" is not supported here; use otlp, console or none.`);
  if (e.OTEL_SDK_DISABLED || names.includes('none')) return base;
  const endpoint = e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (e.OTEL_EXPORTER_OTLP_ENDPOINT ? `${stripSlash(e.OTEL_EXPORTER_OTLP_ENDPOINT)}/v1/traces` : undefined);
  const exporter = names.includes('otlp') ? 'otlp' : names.includes('console') ? 'console' : endpoint ? 'otlp' : undefined;
  if (!exporter) return base;
  const headers = { ...otlpHeaders('OTEL_EXPORTER_OTLP_HEADERS', e.OTEL_EXPORTER_OTLP_HEADERS), ...otlpHeaders('OTEL_EXPORTER_OTLP_TRACES_HEADERS', e.OTEL_EXPORTER_OTLP_TRACES_HEADERS) };
  return { ...base, exporter, endpoint: endpoint ?? 'http://localhost:4318/v1/traces', headers };
}

/**
 * The legacy HTTP+SSE URL of the server whose MCP URL is `mcpUrl`: same
 * origin, the path's last segment replaced by `sse`
 * (`https://host/mcp` -> `https://host/sse`, `https://host/t/mcp` -> `https://host/t/sse`).
 */
export function legacySseUrlFor(mcpUrl: string): string {
  return new URL('sse', mcpUrl).href;
}

export function loadConfig(raw: NodeJS.ProcessEnv | Record<string, string | undefined>): Config {
  const parsed = Env.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    throw new ConfigError(variable, `${issue.message}. Fix the value in your environment or .env (see .env.example).`);
  }
  const e = parsed.data;
  const port = e.PORT ?? (e.AUTH_MODE === 'auth_server' ? 3001 : 3232);
  const baseUri = stripSlash(e.BASE_URI ?? `http://localhost:${port}`);
  // In auth_server mode the MCP server runs elsewhere: MCP_RESOURCE_URL names the
  // resource (RFC 8707) this AS issues tokens for. Elsewhere it is this origin's /mcp.
  const mcpUrl = e.AUTH_MODE === 'auth_server' && e.MCP_RESOURCE_URL ? stripSlash(e.MCP_RESOURCE_URL) : `${baseUri}/mcp`;

  if (e.AUTH_MODE === 'external' && !e.AUTH_SERVER_URL) {
    throw new ConfigError('AUTH_SERVER_URL', 'is required when AUTH_MODE=external (e.g. AUTH_SERVER_URL=http://localhost:3001).');
  }
  if (e.REDIS_URL && !/^rediss?:\/\//.test(e.REDIS_URL)) {
    throw new ConfigError('REDIS_URL', 'must start with redis:// or rediss:// (e.g. redis://localhost:6379).');
  }
  const clusterNodes = e.REDIS_CLUSTER_NODES ? e.REDIS_CLUSTER_NODES.split(',').map(s => s.trim()).filter(Boolean) : undefined;
  if (clusterNodes) {
    if (e.REDIS_URL) throw new ConfigError('REDIS_CLUSTER_NODES', 'and REDIS_URL are both set: use REDIS_URL for one Redis, REDIS_CLUSTER_NODES for a Redis Cluster, not both.');
    const bad = clusterNodes.find(n => !/^rediss?:\/\/[^/]+/.test(n) || !URL.canParse(n));
    if (bad !== undefined || clusterNodes.length === 0) {
      throw new ConfigError('REDIS_CLUSTER_NODES', 'must be comma-separated redis:// or rediss:// URLs of cluster nodes (e.g. redis://10.0.0.1:7000,redis://10.0.0.2:7000).');
    }
  }
  if (e.MCP_REQUEST_STATE_KEY && Buffer.from(e.MCP_REQUEST_STATE_KEY, 'base64url').length < 32) {
    throw new ConfigError('MCP_REQUEST_STATE_KEY', 'must be at least 32 bytes, base64url-encoded (generate one with `openssl rand -base64 32`).');
  }
  if (e.INSTANCE_SECRET && e.INSTANCE_SECRET.length < 32) {
    throw new ConfigError('INSTANCE_SECRET', 'must be at least 32 characters, the same on every instance (generate one with `openssl rand -base64 32`).');
  }
  if (e.INSTANCE_URL && !/^https?:\/\//.test(e.INSTANCE_URL)) {
    throw new ConfigError('INSTANCE_URL', 'must be an http:// or https:// URL other instances can reach (e.g. http://10.0.0.5:3232).');
  }
  if (e.NODE_ENV === 'production' && !baseUri.startsWith('https://') && !/^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(baseUri)) {
    throw new ConfigError('BASE_URI', 'must be https in production (OAuth 2.1 §1.5); set BASE_URI=https://your-host.');
  }

  const upstream = upstreamConfig(e);

  const issuer = e.AUTH_MODE === 'external' ? e.AUTH_SERVER_URL! : baseUri;
  return {
    env: e.NODE_ENV,
    tracing: tracingConfig(e),
    mode: e.AUTH_MODE,
    host: e.HOST,
    port,
    baseUri,
    mcpUrl,
    legacySseUrl: legacySseUrlFor(mcpUrl),
    issuer,
    logLevel: e.LOG_LEVEL,
    adminToken: e.ADMIN_TOKEN || undefined,
    redis: clusterNodes
      ? {
          url: clusterNodes[0]!,
          clusterNodes,
          tls: e.REDIS_TLS || clusterNodes.some(n => n.startsWith('rediss://')),
          password: e.REDIS_PASSWORD,
          waitReplicas: e.REDIS_WAIT_REPLICAS ?? 1,
          waitTimeoutMs: e.REDIS_WAIT_TIMEOUT_MS
        }
      : e.REDIS_URL
        ? {
            url: e.REDIS_URL,
            tls: e.REDIS_TLS || e.REDIS_URL.startsWith('rediss://'),
            password: e.REDIS_PASSWORD,
            waitReplicas: e.REDIS_WAIT_REPLICAS ?? 0,
            waitTimeoutMs: e.REDIS_WAIT_TIMEOUT_MS
          }
        : undefined,
    tokens: {
      accessTtl: e.ACCESS_TOKEN_TTL,
      refreshTtl: e.REFRESH_TOKEN_TTL,
      codeTtl: e.AUTH_CODE_TTL,
      registrationTtl: e.CLIENT_REGISTRATION_TTL,
      refreshGraceSeconds: e.REFRESH_GRACE_SECONDS
    },
    rateLimit: { windowSeconds: e.RATE_LIMIT_WINDOW, max: e.RATE_LIMIT_MAX },
    trustProxy: e.TRUST_PROXY,
    allowedHosts: list(e.ALLOWED_HOSTS),
    allowedOrigins: list(e.ALLOWED_ORIGINS),
    maxBodyBytes: e.MAX_BODY_BYTES,
    cimdAllowLoopback: e.CIMD_ALLOW_LOOPBACK,
    limits: {
      sessions: { perSubject: e.MAX_SESSIONS_PER_SUBJECT, perClient: e.MAX_SESSIONS_PER_CLIENT, total: e.MAX_SESSIONS },
      streams: { perSubject: e.MAX_STREAMS_PER_SUBJECT, perClient: e.MAX_STREAMS_PER_CLIENT, total: e.MAX_STREAMS }
    },
    allowedClientRedirectUris: e.ALLOWED_CLIENT_REDIRECT_URIS.split(/[\s,]+/).filter(Boolean),
    exampleApps: { public: e.EXAMPLE_APPS_PUBLIC, systemMonitorReal: e.EXAMPLE_APPS_SYSTEM_MONITOR_REAL, debugLogFile: e.EXAMPLE_APPS_DEBUG_LOG_FILE },
    requestStateKey: e.MCP_REQUEST_STATE_KEY,
    mcp: {
      sessionIdleSeconds: e.SESSION_IDLE_TIMEOUT,
      resourceUpdateIntervalSeconds: e.RESOURCE_UPDATE_INTERVAL,
      logMessageIntervalSeconds: e.LOG_MESSAGE_INTERVAL,
      instanceUrl: e.INSTANCE_URL ? stripSlash(e.INSTANCE_URL) : undefined,
      instanceSecret: e.INSTANCE_SECRET || undefined,
      clientTesting: {
        maxResultBytes: e.CLIENT_TEST_MAX_RESULT_BYTES,
        maxDurationMs: Math.round(e.CLIENT_TEST_MAX_DURATION * 1000),
        faultsPerMinute: e.CLIENT_TEST_FAULTS_PER_MINUTE
      },
      tasks: { ttlSeconds: e.TASKS_TTL, maxPerSubject: e.TASKS_MAX_PER_SUBJECT, maxLive: e.TASKS_MAX_LIVE, leaseSeconds: e.TASKS_LEASE_SECONDS }
    },
    introspectionClient:
      e.AUTH_MODE !== 'external' && e.INTROSPECTION_CLIENT_ID && e.INTROSPECTION_CLIENT_SECRET
        ? { clientId: e.INTROSPECTION_CLIENT_ID, clientSecret: e.INTROSPECTION_CLIENT_SECRET }
        : undefined,
    upstream,
    external: {
      audience: e.TOKEN_AUDIENCE,
      validation: e.TOKEN_VALIDATION,
      provider: e.AUTH_PROVIDER,
      introspectionEndpoint: e.INTROSPECTION_ENDPOINT,
      clientId: e.INTROSPECTION_CLIENT_ID,
      clientSecret: e.INTROSPECTION_CLIENT_SECRET,
      authMethod: e.INTROSPECTION_AUTH_METHOD,
      cacheTtlSeconds: e.INTROSPECTION_CACHE_TTL,
      algorithms: list(e.JWT_ALGORITHMS),
      cognitoClientId: e.COGNITO_CLIENT_ID
    }
  };
}

/** `UPSTREAM_*`: each rule names the variable and the fix. */
function upstreamConfig(e: z.infer<typeof Env>): UpstreamConfig {
  const kind = e.UPSTREAM_IDP;
  const scopes = (e.UPSTREAM_SCOPES ?? DEFAULT_UPSTREAM_SCOPES[kind]).split(/[\s,]+/).filter(Boolean);
  const config: UpstreamConfig = {
    kind,
    issuer: e.UPSTREAM_ISSUER ?? PRESET_ISSUERS[kind],
    clientId: e.UPSTREAM_CLIENT_ID || undefined,
    clientSecret: e.UPSTREAM_CLIENT_SECRET || undefined,
    tokenAuthMethod: e.UPSTREAM_TOKEN_AUTH_METHOD,
    scopes,
    githubUrl: stripSlash(e.UPSTREAM_GITHUB_URL),
    tokenKey: e.UPSTREAM_TOKEN_KEY || undefined,
    allowedDomains: list(e.UPSTREAM_ALLOWED_DOMAINS.toLowerCase()).map(d => d.replace(/^@/, '')),
    allowedUsers: list(e.UPSTREAM_ALLOWED_USERS.toLowerCase()),
    timeoutMs: Math.round(e.UPSTREAM_TIMEOUT * 1000)
  };
  if (config.tokenKey !== undefined && Buffer.from(config.tokenKey, 'base64url').length !== 32) {
    throw new ConfigError('UPSTREAM_TOKEN_KEY', 'must be exactly 32 bytes, base64url-encoded (generate one with `openssl rand -base64 32 | tr "+/" "-_" | tr -d =`).');
  }
  if (kind === 'mock') return config;

  if (e.AUTH_MODE === 'external') {
    throw new ConfigError('UPSTREAM_IDP', `${kind} signs people in at this server's authorization server, which external mode does not run: set it on the AS process (AUTH_MODE=internal or auth_server), or unset it here.`);
  }
  if (!config.clientId) {
    throw new ConfigError('UPSTREAM_CLIENT_ID', `is required when UPSTREAM_IDP=${kind}: register this server at the provider (redirect URI BASE_URI/upstream-idp/callback, see docs/providers.md) and set the client id it gives you.`);
  }
  if (config.tokenAuthMethod !== 'none' && !config.clientSecret) {
    throw new ConfigError('UPSTREAM_CLIENT_SECRET', `is required when UPSTREAM_IDP=${kind} (or set UPSTREAM_TOKEN_AUTH_METHOD=none for a public client with PKCE).`);
  }
  if (e.NODE_ENV === 'production' && !config.tokenKey) {
    throw new ConfigError('UPSTREAM_TOKEN_KEY', 'is required with NODE_ENV=production and an upstream provider (it seals the provider\'s tokens at rest and must be the same on every instance): generate one with `openssl rand -base64 32 | tr "+/" "-_" | tr -d =`.');
  }
  if (scopes.length === 0) throw new ConfigError('UPSTREAM_SCOPES', 'must name at least one scope (or unset it for the default).');

  if (kind === 'github') {
    if (e.UPSTREAM_ISSUER) throw new ConfigError('UPSTREAM_ISSUER', 'is not used with UPSTREAM_IDP=github (GitHub has no OpenID issuer): unset it, and set UPSTREAM_GITHUB_URL for GitHub Enterprise Server.');
    const gh = new URL(config.githubUrl);
    if (gh.search || gh.hash) throw new ConfigError('UPSTREAM_GITHUB_URL', 'must be the bare base URL (https://github.com, or https://github.example.com for GitHub Enterprise Server), without query or fragment.');
    if (e.NODE_ENV === 'production' && gh.protocol !== 'https:') throw new ConfigError('UPSTREAM_GITHUB_URL', 'must be https in production.');
    return config;
  }
  // OpenID Connect kinds.
  if (!config.issuer) {
    throw new ConfigError('UPSTREAM_ISSUER', `is required when UPSTREAM_IDP=${kind}: the provider's issuer URL exactly as its /.well-known/openid-configuration says (see docs/providers.md).`);
  }
  if (!scopes.includes('openid')) throw new ConfigError('UPSTREAM_SCOPES', `must include openid for UPSTREAM_IDP=${kind} (e.g. "openid email profile").`);
  const iss = new URL(config.issuer);
  if (e.NODE_ENV === 'production' && iss.protocol !== 'https:') {
    throw new ConfigError('UPSTREAM_ISSUER', 'must be https in production.');
  }
  if (kind === 'entra' && /^\/(common|organizations|consumers)(\/|$)/.test(iss.pathname)) {
    throw new ConfigError('UPSTREAM_ISSUER', 'must name your tenant (https://login.microsoftonline.com/<tenant-id>/v2.0): the multi-tenant endpoints have no fixed issuer to match.');
  }
  if (kind === 'cognito' && iss.hostname.endsWith('.amazoncognito.com')) {
    throw new ConfigError('UPSTREAM_ISSUER', 'is the user pool\'s issuer (https://cognito-idp.<region>.amazonaws.com/<pool-id>), not the hosted-UI domain; discovery finds the hosted UI from it.');
  }
  return config;
}
