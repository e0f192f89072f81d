/**
 * DNS-rebinding protection (MCP 2025-11-25 transports §Security warning and
 * security best practices "Local MCP server compromise"): a browser page on
 * `evil.example` that resolves its own name to 127.0.0.1 must not reach the
 * server. Two checks, both before authentication:
 *
 * - `Host` must name this server: a loopback name (`localhost`, `127.0.0.1`,
 *   `[::1]`, any port), the host of `BASE_URI`, or an entry of `ALLOWED_HOSTS`.
 * - `Origin`, when a browser sends one, must be such a host too, or an exact
 *   entry of `ALLOWED_ORIGINS`.
 *
 * A rejection is HTTP 403 with a JSON-RPC error body (what the SDK's own
 * `hostHeaderValidation` answers and what the conformance
 * `dns-rebinding-protection` scenario expects: any 4xx).
 */
import type { RequestHandler } from 'express';

import { JSONRPC_SERVER_ERROR, sendJsonRpcError } from './jsonrpc-error.js';

export interface HostOriginOptions {
  /** Public origin of this server (`BASE_URI`), e.g. `https://mcp.example.com`. */
  baseUri: string;
  /** Extra accepted `Host` values: `name` (any port) or `name:port` (exactly). */
  allowedHosts?: readonly string[];
  /** Extra accepted `Origin` values, compared exactly (scheme://host[:port]). */
  allowedOrigins?: readonly string[];
}

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

/** Splits `host[:port]` (IPv6 in brackets) into lower-case hostname and port. */
export function splitHost(value: string): { hostname: string; port?: string } | undefined {
  const v = value.trim().toLowerCase();
  if (!v) return undefined;
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]\s/]+)(?::(\d{1,5}))?$/.exec(v);
  if (!m) return undefined;
  return { hostname: m[1]!, port: m[2] };
}

export interface HostOriginPolicy {
  isAllowedHost(host: string | undefined): boolean;
  isAllowedOrigin(origin: string | undefined): boolean;
}

export function createHostOriginPolicy(options: HostOriginOptions): HostOriginPolicy {
  const base = new URL(options.baseUri);
  const anyPort = new Set(LOOPBACK);
  const exact = new Set<string>([base.host.toLowerCase()]);
  for (const entry of options.allowedHosts ?? []) {
    const parsed = splitHost(entry);
    if (!parsed) continue;
    if (parsed.port) exact.add(`${parsed.hostname}:${parsed.port}`);
    else anyPort.add(parsed.hostname);
  }
  // The BASE_URI host on its default port may arrive without a port.
  if (!base.port) anyPort.add(base.hostname.toLowerCase());
  const origins = new Set((options.allowedOrigins ?? []).map(o => o.replace(/\/+$/, '').toLowerCase()));
  origins.add(base.origin.toLowerCase());

  // The last Host value allowed: nearly every request carries the same one, and the answer depends on nothing else.
  let lastAllowed: string | undefined;
  const isAllowedHost = (host: string | undefined): boolean => {
    if (!host) return false;
    if (host === lastAllowed) return true;
    const parsed = splitHost(host);
    if (!parsed) return false;
    const allowed = anyPort.has(parsed.hostname) || exact.has(parsed.port ? `${parsed.hostname}:${parsed.port}` : parsed.hostname);
    if (allowed) lastAllowed = host;
    return allowed;
  };

  const isAllowedOrigin = (origin: string | undefined): boolean => {
    if (origin === undefined) return true; // not a browser request
    const o = origin.trim().toLowerCase();
    if (origins.has(o)) return true;
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      return false; // includes the opaque origin "null"
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    return isAllowedHost(url.host);
  };

  return { isAllowedHost, isAllowedOrigin };
}

/** Express middleware answering 403 for a foreign `Host` or `Origin`. */
export function hostOriginGuard(options: HostOriginOptions): RequestHandler {
  const policy = createHostOriginPolicy(options);
  return (req, res, next) => {
    if (!policy.isAllowedHost(req.headers.host)) {
      req.log?.warn({ host: req.headers.host }, 'rejected request: Host not allowed (DNS-rebinding protection)');
      sendJsonRpcError(res, 403, JSONRPC_SERVER_ERROR, 'Forbidden: Host header not allowed');
      return;
    }
    const origin = req.headers.origin;
    if (!policy.isAllowedOrigin(typeof origin === 'string' ? origin : undefined)) {
      req.log?.warn({ origin }, 'rejected request: Origin not allowed (DNS-rebinding protection)');
      sendJsonRpcError(res, 403, JSONRPC_SERVER_ERROR, 'Forbidden: Origin not allowed');
      return;
    }
    next();
  };
}
