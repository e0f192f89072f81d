/**
 * A small authorization server for validator tests, over real HTTP on port 0:
 * metadata at the discovery URLs of its issuer, a JWKS the test can rotate,
 * and an RFC 7662 introspection endpoint whose answers, delay and failures
 * the test controls. It counts every request per path.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

export async function makeKey(kid: string, alg = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, jwk };
}

export async function signToken(key: SigningKey, payload: JWTPayload, header: { typ?: string; kid?: string } = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: header.kid ?? key.kid, ...(header.typ ? { typ: header.typ } : {}) }).sign(key.privateKey);
}

export interface TestAs {
  /** Origin, e.g. http://127.0.0.1:12345 */
  origin: string;
  /** The issuer identifier (origin + optional path). */
  issuer: string;
  /** Requests per path (pathname only). */
  hits: Map<string, number>;
  /** Bodies (form fields) and authorization headers the introspection endpoint received. */
  introspectionRequests: Array<{ form: URLSearchParams; authorization?: string }>;
  /** JWKS served at /jwks. */
  jwks: { keys: JWK[] };
  /** token -> RFC 7662 answer; unknown tokens answer { active: false }. */
  tokens: Map<string, Record<string, unknown>>;
  /** Knobs for failure tests. */
  behaviour: {
    introspectionDelayMs: number;
    introspectionStatus: number;
    retryAfter?: string;
    hang: boolean;
    metadataStatus: number;
    /** Overrides fields of the metadata document. */
    metadata: Record<string, unknown>;
    /** Which discovery paths answer (others 404). Default: all. */
    discoveryPaths?: string[];
    /** Accepted introspection credentials. */
    clientId: string;
    clientSecret: string;
  };
  metadataDocument(): Record<string, unknown>;
  count(path: string): number;
  close(): Promise<void>;
}

export async function startTestAs(options: { issuerPath?: string; port?: number } = {}): Promise<TestAs> {
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer();
  server.on('connection', s => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>(r => server.listen(options.port ?? 0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  const issuer = `${origin}${options.issuerPath ?? ''}`;

  const as: TestAs = {
    origin,
    issuer,
    hits: new Map(),
    introspectionRequests: [],
    jwks: { keys: [] },
    tokens: new Map(),
    behaviour: { introspectionDelayMs: 0, introspectionStatus: 200, hang: false, metadataStatus: 200, metadata: {}, clientId: 'rs-client', clientSecret: 'rs-secret' },
    metadataDocument() {
      return {
        issuer,
        authorization_endpoint: `${origin}/authorize`,
        token_endpoint: `${origin}/token`,
        jwks_uri: `${origin}/jwks`,
        introspection_endpoint: `${origin}/introspect`,
        introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        ...as.behaviour.metadata
      };
    },
    count(path) {
      return as.hits.get(path) ?? 0;
    },
    async close() {
      await new Promise<void>(r => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      });
    }
  };

  server.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', origin);
    as.hits.set(url.pathname, (as.hits.get(url.pathname) ?? 0) + 1);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };

    if (req.method === 'GET' && url.pathname.includes('/.well-known/')) {
      const allowed = as.behaviour.discoveryPaths;
      if (allowed && !allowed.includes(url.pathname)) return json(404, { error: 'not_found' });
      if (as.behaviour.metadataStatus !== 200) return json(as.behaviour.metadataStatus, { error: 'server_error' });
      return json(200, as.metadataDocument());
    }
    if (req.method === 'GET' && url.pathname === '/jwks') return json(200, as.jwks);
    if (req.method === 'POST' && url.pathname === '/introspect') {
      let raw = '';
      req.on('data', c => (raw += c));
      req.on('end', () => {
        const form = new URLSearchParams(raw);
        as.introspectionRequests.push({ form, authorization: req.headers.authorization });
        if (as.behaviour.hang) return; // never answers
        setTimeout(() => {
          if (as.behaviour.introspectionStatus !== 200) {
            return json(as.behaviour.introspectionStatus, { error: 'server_error' }, as.behaviour.retryAfter ? { 'retry-after': as.behaviour.retryAfter } : {});
          }
          // Client authentication: Basic or post (RFC 6749 §2.3.1).
          const { clientId, clientSecret } = as.behaviour;
          const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
          const authenticated = req.headers.authorization === basic || (form.get('client_id') === clientId && form.get('client_secret') === clientSecret);
          if (!authenticated) return json(401, { error: 'invalid_client' });
          const answer = as.tokens.get(form.get('token') ?? '') ?? { active: false };
          return json(200, answer);
        }, as.behaviour.introspectionDelayMs);
      });
      return;
    }
    json(404, { error: 'not_found' });
  });

  return as;
}

/** A listener that refuses nothing and answers nothing useful: the address of a stopped server. */
export async function deadOrigin(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>(r => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}
