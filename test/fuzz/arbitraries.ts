/**
 * fast-check arbitraries for every HTTP endpoint of the server: JSON-RPC
 * bodies for every MCP method (random params, ids, batches, broken JSON),
 * OAuth forms and query strings, and the headers a client controls (Host,
 * Origin, Authorization, MCP-Protocol-Version, Mcp-Session-Id,
 * Last-Event-ID, Mcp-Method, Content-Type, Accept).
 *
 * Real values (a valid token, a live session id, a registered client, the
 * hidden fields of a live consent page) are mixed in with random ones so that
 * the fuzzer gets past the first check of each endpoint.
 */
import fc from 'fast-check';

/** What the fuzzer may send: method, path (with query), headers, raw body. */
export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** Real values of the running server, read by the arbitraries at generation time. */
export interface Known {
  port: number;
  /** Valid for /mcp; never sent to /revoke (so it stays valid for the whole run). */
  mcpToken: string;
  /** Offered to /introspect and /revoke. */
  spareToken: string;
  /** The live 2025 session (the test opens a new one when a fuzzed DELETE ends it). */
  sessionId: () => string;
  clientId: string;
  confidentialClientId: string;
  confidentialClientSecret: string;
  redirectUri: string;
  /** Hidden fields of a live consent page and of a live IdP page (refreshed by the test). */
  consentFields: () => Record<string, string>;
  idpFields: () => Record<string, string>;
  /** The browser-binding cookie of the browser that opened those pages. */
  cookie: () => string;
  /** A fresh authorization code of `clientId` (for `redirectUri`) and its PKCE verifier, when the pool has one; else a used one. */
  nextCode: () => { code: string; verifier: string };
  /** A refresh token of `clientId` from the pool (live or already rotated). */
  nextRefreshToken: () => string;
}

export const MCP_METHODS = [
  'initialize',
  'ping',
  'server/discover',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'subscriptions/listen',
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
  'sampling/createMessage',
  'elicitation/create',
  'roots/list',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/roots/list_changed',
  'notifications/message'
] as const;

/**
 * Tools the fuzzer calls by name. Left out: the ones that by design wait
 * (`longRunningOperation` runs 10 s by default; sampling, elicitation and
 * roots wait for the client's answer on a 2025 session). Random names are
 * generated as well.
 */
export const FUZZ_TOOLS = [
  'echo',
  'add',
  'getTinyImage',
  'annotatedMessage',
  'getResourceReference',
  'getResourceLinks',
  'structuredContent',
  'getPrimes',
  'whoami',
  'adminStats',
  'createCounter',
  'getCounter',
  'incrementCounter',
  'test_x_mcp_header',
  'test_trigger_resource_updated'
] as const;

export const PROTOCOL_VERSIONS = ['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;

/** Printable ASCII (what Node's client lets through in a header value), sometimes Latin-1. */
const headerText = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map(c => String.fromCharCode(c)), maxLength: 60 }),
  fc.string({ unit: fc.integer({ min: 0x80, max: 0xff }).map(c => String.fromCharCode(c)), maxLength: 8 })
);

/** Characters a raw query string may hold (Node refuses spaces and controls in a path), `%` included. */
const rawQuery = fc.string({ unit: fc.constantFrom(...'abcxyz019=&%+;/?:@-._~!$\'()*,[]{}|^`"<>\\#'.split('')), maxLength: 80 });

const jsonish: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3 });

/** Mostly valid JSON-RPC ids (integers, strings), now and then an invalid one. */
const id = fc.oneof(
  { weight: 8, arbitrary: fc.oneof(fc.integer(), fc.string({ maxLength: 12 })) },
  { weight: 1, arbitrary: fc.oneof(fc.constant(null), fc.double(), fc.boolean(), fc.constant({}), fc.constant([])) }
);

function toolParams(): fc.Arbitrary<unknown> {
  return fc.record(
    {
      name: fc.oneof(fc.constantFrom(...FUZZ_TOOLS), fc.string({ maxLength: 20 })),
      arguments: fc.oneof(jsonish, fc.dictionary(fc.constantFrom('message', 'a', 'b', 'count', 'limit', 'name', 'messageType', 'includeImage', 'resourceId', 'handle', 'by'), jsonish, { maxKeys: 4 }))
    },
    { requiredKeys: [] }
  );
}

/** `_meta` for the 2026-07-28 envelope (or a broken one), sometimes with a traceparent. */
const meta = fc.record(
  {
    'io.modelcontextprotocol/protocolVersion': fc.oneof(fc.constantFrom(...PROTOCOL_VERSIONS), headerText, jsonish),
    'io.modelcontextprotocol/clientInfo': fc.oneof(fc.constant({ name: 'fuzz', version: '1' }), jsonish),
    'io.modelcontextprotocol/clientCapabilities': fc.oneof(fc.constant({}), jsonish),
    progressToken: fc.oneof(fc.integer(), fc.string({ maxLength: 8 })),
    traceparent: fc.oneof(fc.constant('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'), headerText)
  },
  { requiredKeys: [] }
);

function params(method: string): fc.Arbitrary<unknown> {
  const specific: Record<string, fc.Arbitrary<unknown>> = {
    initialize: fc.record(
      { protocolVersion: fc.oneof(fc.constantFrom(...PROTOCOL_VERSIONS), headerText), capabilities: fc.oneof(fc.constant({}), jsonish), clientInfo: fc.oneof(fc.constant({ name: 'fuzz', version: '1' }), jsonish) },
      { requiredKeys: [] }
    ),
    'tools/call': toolParams(),
    'resources/read': fc.record({ uri: fc.oneof(fc.constantFrom('test://static/resource/1', 'test://static/resource/2', 'ui://prime-app'), fc.webUrl(), headerText) }, { requiredKeys: [] }),
    'resources/subscribe': fc.record({ uri: fc.oneof(fc.constant('test://static/resource/1'), headerText) }, { requiredKeys: [] }),
    'prompts/get': fc.record(
      { name: fc.oneof(fc.constantFrom('simple_prompt', 'complex_prompt', 'resource_prompt'), headerText), arguments: fc.oneof(jsonish, fc.dictionary(fc.constantFrom('temperature', 'style', 'resourceId'), fc.oneof(headerText, jsonish))) },
      { requiredKeys: [] }
    ),
    'completion/complete': fc.record(
      { ref: fc.oneof(fc.constant({ type: 'ref/prompt', name: 'complex_prompt' }), fc.constant({ type: 'ref/resource', uri: 'test://static/resource/{id}' }), jsonish), argument: fc.oneof(fc.record({ name: headerText, value: headerText }), jsonish) },
      { requiredKeys: [] }
    ),
    'logging/setLevel': fc.record({ level: fc.oneof(fc.constantFrom('debug', 'info', 'error', 'emergency'), headerText) }, { requiredKeys: [] })
  };
  // Own keys only: fast-check generates names like `constructor` and `__proto__` on purpose.
  const base = (Object.hasOwn(specific, method) ? specific[method] : undefined) ?? fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 4, arbitrary: fc.dictionary(fc.constantFrom('uri', 'name', 'cursor', 'level', 'requestId', 'taskId', 'progressToken', 'reason'), jsonish, { maxKeys: 3 }) }, { weight: 1, arbitrary: jsonish });
  // Now and then a `_meta` of generated values (a broken envelope, a traceparent).
  return fc.tuple(base, fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: meta })).map(([p, m]) => {
    if (m === undefined) return p;
    if (p === undefined || p === null || typeof p !== 'object' || Array.isArray(p)) return { _meta: m };
    return { ...(p as object), _meta: m };
  });
}

/** One JSON-RPC message: request, notification, response-shaped, or nonsense. */
export const jsonRpcMessage: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.oneof(fc.constantFrom(...MCP_METHODS), fc.string({ maxLength: 24 })).chain(method =>
    fc.record(
      { jsonrpc: fc.oneof({ weight: 8, arbitrary: fc.constant('2.0') }, { weight: 1, arbitrary: jsonish }), id, method: fc.oneof({ weight: 8, arbitrary: fc.constant(method) }, { weight: 1, arbitrary: jsonish }), params: params(method) },
      { requiredKeys: ['jsonrpc', 'method'] }
    )
  ) },
  { weight: 1, arbitrary: fc.record({ jsonrpc: fc.constant('2.0'), id, result: jsonish }) },
  { weight: 1, arbitrary: fc.record({ jsonrpc: fc.constant('2.0'), id, error: fc.record({ code: fc.integer(), message: fc.string() }) }) },
  { weight: 1, arbitrary: jsonish }
);

/** A body for /mcp or /message: one message, a batch, or broken JSON. */
export const jsonRpcBody: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 8, arbitrary: jsonRpcMessage.map(m => JSON.stringify(m)) },
  { weight: 2, arbitrary: fc.array(jsonRpcMessage, { minLength: 0, maxLength: 4 }).map(b => JSON.stringify(b)) },
  { weight: 1, arbitrary: jsonRpcMessage.chain(m => fc.nat({ max: 200 }).map(n => JSON.stringify(m).slice(0, n))) },
  { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
  { weight: 1, arbitrary: fc.constant(undefined) }
);

function hostHeader(known: Known): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(`localhost:${known.port}`, `127.0.0.1:${known.port}`) },
    { weight: 1, arbitrary: fc.constantFrom('evil.example', `localhost:${known.port + 1}`, `[::1]:${known.port}`, 'localhost') },
    { weight: 1, arbitrary: headerText.filter(h => h.trim() !== '') }
  );
}

function optional(arb: fc.Arbitrary<string>, weightPresent = 1): fc.Arbitrary<string | undefined> {
  return fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: weightPresent, arbitrary: arb });
}

const KEEP = Symbol('keep');
const DROP = Symbol('drop');

/** Usually keeps a field of a valid template; now and then drops it or puts a generated value in. */
export function mutate<T>(value: fc.Arbitrary<T>, keepWeight = 10): fc.Arbitrary<T | typeof KEEP | typeof DROP> {
  return fc.oneof({ weight: keepWeight, arbitrary: fc.constant(KEEP) }, { weight: 1, arbitrary: fc.constant(DROP) }, { weight: 1, arbitrary: value });
}

/** Applies `mutate` results to a template (a drop deletes the key). */
export function applyMutations<T extends Record<string, unknown>>(template: T, changes: Record<string, unknown>): T {
  const out: Record<string, unknown> = { ...template };
  for (const [k, v] of Object.entries(changes)) {
    if (v === KEEP) continue;
    if (v === DROP) delete out[k];
    else out[k] = v;
  }
  return out as T;
}

const ascii = (v: unknown): v is string => typeof v === 'string' && /^[\x20-\x7e]*$/.test(v) && v.length > 0;

/**
 * Requests to the MCP endpoints, each built from a valid template and then
 * mutated: a 2026-07-28 stateless request (envelope, Mcp-Method/Mcp-Name), a
 * request on the live 2025 session, a new initialize, or anything; on /mcp
 * (POST, GET, DELETE, other verbs), legacy /sse and /message.
 */
export function mcpRequest(known: Known): fc.Arbitrary<FuzzRequest> {
  const era = fc.constantFrom('2026', '2026', '2025', '2025', 'init', 'any');
  const method = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...MCP_METHODS) }, { weight: 1, arbitrary: fc.string({ maxLength: 24 }) });
  return fc
    .tuple(era, method, id, fc.constant(null))
    .chain(([e, m, reqId]) => {
      const rpcMethod = e === 'init' ? 'initialize' : m;
      const envelope = {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientInfo': { name: 'fuzz', version: '1' },
        'io.modelcontextprotocol/clientCapabilities': {}
      };
      const paramsArb = params(rpcMethod).map(p => {
        if (e !== '2026') return p;
        const obj = p !== null && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>) : {};
        return { ...obj, _meta: { ...envelope, ...((obj._meta as object) ?? {}) } };
      });
      const message = paramsArb.chain(p =>
        fc
          .record({ jsonrpc: mutate(jsonish, 40), id: mutate(jsonish, 30), method: mutate(jsonish, 40), params: mutate(jsonish, 30) })
          .map(ch => applyMutations({ jsonrpc: '2.0', id: reqId ?? 1, method: rpcMethod, params: p } as Record<string, unknown>, ch))
      );
      const body = fc.oneof(
        { weight: 12, arbitrary: message.map(msg => JSON.stringify(msg)) },
        { weight: 1, arbitrary: fc.array(message, { maxLength: 3 }).map(b => JSON.stringify(b)) },
        { weight: 1, arbitrary: message.chain(msg => fc.nat({ max: 120 }).map(n => JSON.stringify(msg).slice(0, n))) },
        { weight: 1, arbitrary: jsonRpcBody }
      );
      return fc.tuple(fc.constant(e), fc.constant(rpcMethod), body);
    })
    .chain(([e, rpcMethod, body]) => {
      let parsed: { params?: { name?: unknown; uri?: unknown } } | undefined;
      try {
        parsed = typeof body === 'string' ? (JSON.parse(body) as typeof parsed) : undefined;
      } catch {
        parsed = undefined;
      }
      const name = parsed?.params?.name ?? parsed?.params?.uri;
      const template: Record<string, string> = {
        host: `localhost:${known.port}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${known.mcpToken}`
      };
      if (e === '2026') {
        template['mcp-protocol-version'] = '2026-07-28';
        if (ascii(rpcMethod)) template['mcp-method'] = rpcMethod;
        if (ascii(name)) template['mcp-name'] = name;
      } else if (e === '2025' || e === 'any') {
        template['mcp-protocol-version'] = '2025-11-25';
        template['mcp-session-id'] = known.sessionId();
      }
      const headerChanges = fc.record({
        host: mutate(hostHeader(known)),
        origin: mutate(fc.oneof(fc.constantFrom(`http://localhost:${known.port}`, 'http://evil.example', 'null'), headerText), 6),
        authorization: mutate(fc.oneof(headerText.map(t => `Bearer ${t}`), fc.constant(`Bearer ${known.spareToken}`), headerText)),
        'mcp-protocol-version': mutate(fc.oneof(fc.constantFrom(...PROTOCOL_VERSIONS), headerText)),
        'mcp-session-id': mutate(fc.oneof(fc.constant(known.sessionId()), fc.uuid(), headerText)),
        'last-event-id': mutate(fc.oneof(fc.constantFrom('0-0', '1-1', '99999999999999-0'), fc.constant(null).map(() => `${known.sessionId()}:_GET_stream:0-0`), headerText), 6),
        'content-type': mutate(fc.constantFrom('application/x-www-form-urlencoded', 'text/plain', 'application/json; charset=utf-8', 'multipart/form-data')),
        accept: mutate(fc.constantFrom('application/json', 'text/event-stream', '*/*', 'text/html')),
        'mcp-method': mutate(fc.oneof(fc.constantFrom(...MCP_METHODS), headerText)),
        'mcp-name': mutate(headerText, 20)
      });
      const verbAndPath = fc.oneof(
        { weight: 16, arbitrary: fc.constant(['POST', '/mcp']) },
        { weight: 2, arbitrary: fc.constant(['GET', '/mcp']) },
        { weight: 1, arbitrary: fc.constant(['DELETE', '/mcp']) },
        { weight: 1, arbitrary: fc.tuple(fc.constantFrom('PUT', 'PATCH', 'OPTIONS', 'HEAD'), fc.constantFrom('/mcp', '/sse', '/message')) },
        { weight: 1, arbitrary: fc.tuple(fc.constantFrom('GET', 'POST'), fc.constantFrom('/sse', '/message', '/mcp/', '/mcp?x=1')) },
        { weight: 1, arbitrary: rawQuery.map(q => ['POST', `/message?sessionId=${q}`]) }
      );
      return fc.tuple(verbAndPath, headerChanges).map(([[verb, path], changes]) => {
        const headers = applyMutations(template, changes as Record<string, unknown>) as Record<string, string>;
        return { method: verb!, path: path!, headers, body: verb === 'GET' || verb === 'HEAD' ? undefined : body };
      });
    });
}

/** A form as sent on the wire: usually urlencoded pairs, sometimes a repeated key, JSON or junk. */
function formBody(fields: fc.Arbitrary<Record<string, string | undefined>>): fc.Arbitrary<{ body: string; contentType: string | undefined }> {
  return fc.oneof(
    { weight: 8, arbitrary: fields.map(f => ({ body: new URLSearchParams(Object.entries(f).filter((e): e is [string, string] => e[1] !== undefined)).toString(), contentType: 'application/x-www-form-urlencoded' })) },
    { weight: 1, arbitrary: fields.map(f => ({ body: new URLSearchParams(Object.entries(f).filter((e): e is [string, string] => e[1] !== undefined)).toString() + '&grant_type=x&token=y', contentType: 'application/x-www-form-urlencoded' })) },
    { weight: 1, arbitrary: fields.map(f => ({ body: JSON.stringify(f), contentType: 'application/json' })) },
    { weight: 1, arbitrary: fc.tuple(rawQuery, fc.constantFrom('application/x-www-form-urlencoded', 'text/plain')).map(([body, contentType]) => ({ body, contentType })) },
    { weight: 1, arbitrary: fc.constant({ body: '', contentType: undefined }) }
  );
}

const text = fc.oneof(headerText, fc.string({ maxLength: 40 }));

/** A value read from the running server when the request is generated (it changes during the run). */
const live = (read: () => string): fc.Arbitrary<string> => fc.constant(null).map(() => read());
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

function oauthHeaders(known: Known, contentType: string | undefined): fc.Arbitrary<Record<string, string>> {
  return fc
    .record({
      host: hostHeader(known),
      origin: optional(fc.constantFrom(`http://localhost:${known.port}`, 'http://evil.example')),
      authorization: fc.oneof(
        { weight: 3, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constant(`Basic ${Buffer.from(`${encodeURIComponent(known.confidentialClientId)}:${encodeURIComponent(known.confidentialClientSecret)}`).toString('base64')}`) },
        { weight: 1, arbitrary: fc.tuple(text, text).map(([u, p]) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`) },
        { weight: 1, arbitrary: headerText }
      ),
      cookie: optional(fc.oneof({ weight: 3, arbitrary: live(known.cookie) }, { weight: 1, arbitrary: headerText }), 3)
    })
    .map(h => {
      const out = Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>;
      if (contentType) out['content-type'] = contentType;
      return out;
    });
}

function post(path: string, known: Known, fields: fc.Arbitrary<Record<string, string | undefined>>): fc.Arbitrary<FuzzRequest> {
  return formBody(fields).chain(({ body, contentType }) => oauthHeaders(known, contentType).map(headers => ({ method: 'POST', path, headers, body })));
}

/** POST /token: valid code and refresh-token exchanges (real credentials from the pools), mutated, and random forms. */
export function tokenRequest(known: Known): fc.Arbitrary<FuzzRequest> {
  const random = fc.record({
    grant_type: opt(fc.oneof(fc.constantFrom('authorization_code', 'refresh_token', 'client_credentials', 'password', 'urn:ietf:params:oauth:grant-type:device_code'), text)),
    code: opt(text),
    code_verifier: opt(fc.oneof(fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~'.split('')), minLength: 43, maxLength: 128 }), text)),
    redirect_uri: opt(fc.oneof(fc.constant(known.redirectUri), fc.webUrl(), text)),
    refresh_token: opt(text),
    client_id: opt(fc.oneof(fc.constantFrom(known.clientId, known.confidentialClientId), text)),
    client_secret: opt(fc.oneof(fc.constant(known.confidentialClientSecret), text)),
    resource: opt(fc.oneof(fc.constant(`http://localhost:${known.port}/mcp`), fc.webUrl(), text)),
    scope: opt(fc.oneof(fc.constantFrom('mcp', 'mcp offline_access', 'admin'), text))
  });
  const codeExchange = live(() => JSON.stringify(known.nextCode())).chain(json => {
    const c = JSON.parse(json) as { code: string; verifier: string };
    const template = { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: known.redirectUri, client_id: known.clientId, resource: `http://localhost:${known.port}/mcp` };
    return fc
      .record({ grant_type: mutate(text), code: mutate(text), code_verifier: mutate(text), redirect_uri: mutate(fc.webUrl()), client_id: mutate(fc.oneof(fc.constant(known.confidentialClientId), text)), resource: mutate(fc.oneof(fc.webUrl(), text)), scope: mutate(fc.constantFrom('mcp', 'admin', 'mcp offline_access'), 3) })
      .map(ch => applyMutations(template as Record<string, string | undefined>, ch));
  });
  const refresh = live(() => known.nextRefreshToken()).chain(rt => {
    const template = { grant_type: 'refresh_token', refresh_token: rt, client_id: known.clientId };
    return fc
      .record({ grant_type: mutate(text), refresh_token: mutate(text), client_id: mutate(fc.oneof(fc.constant(known.confidentialClientId), text)), scope: mutate(fc.constantFrom('mcp', 'admin', 'mcp offline_access'), 3), resource: mutate(fc.oneof(fc.webUrl(), text), 4) })
      .map(ch => applyMutations(template as Record<string, string | undefined>, ch));
  });
  return post('/token', known, fc.oneof(codeExchange, refresh, random));
}

/** POST /introspect and POST /revoke: real and random tokens, hints, client credentials. */
export function introspectOrRevokeRequest(known: Known): fc.Arbitrary<FuzzRequest> {
  return fc.constantFrom('/introspect', '/revoke').chain(path =>
    post(
      path,
      known,
      fc.record({
        token: opt(fc.oneof(fc.constant(known.spareToken), text)),
        token_type_hint: opt(fc.oneof(fc.constantFrom('access_token', 'refresh_token'), text)),
        client_id: opt(fc.oneof(fc.constantFrom(known.clientId, known.confidentialClientId), text)),
        client_secret: opt(fc.oneof(fc.constant(known.confidentialClientSecret), text))
      })
    )
  );
}

/** POST /register: valid client metadata (RFC 7591), mutated field by field, and random JSON. */
export function registerRequest(known: Known): fc.Arbitrary<FuzzRequest> {
  const template = fc.record({
    redirect_uris: fc.constantFrom(['http://127.0.0.1:9/cb'], ['https://app.example/cb'], ['http://localhost/cb', 'https://app.example/cb']),
    token_endpoint_auth_method: fc.constantFrom('none', 'client_secret_basic', 'client_secret_post'),
    grant_types: fc.constantFrom(['authorization_code', 'refresh_token'], ['authorization_code']),
    response_types: fc.constant(['code']),
    client_name: fc.constantFrom('Fuzzed client', 'Ünïcødé client'),
    scope: fc.constantFrom('mcp', 'mcp offline_access')
  });
  const changes = fc.record({
    redirect_uris: mutate(fc.oneof(fc.array(fc.oneof(fc.constantFrom('http://localhost/cb', 'javascript:alert(1)', 'https://app.example/cb#frag', 'custom.scheme:/cb', 'http://evil.example/cb'), fc.webUrl(), text), { maxLength: 3 }), jsonish), 6),
    token_endpoint_auth_method: mutate(fc.oneof(fc.constantFrom('private_key_jwt', 'tls_client_auth'), jsonish)),
    grant_types: mutate(fc.oneof(fc.subarray(['authorization_code', 'refresh_token', 'implicit', 'client_credentials']), jsonish)),
    response_types: mutate(fc.oneof(fc.subarray(['code', 'token']), jsonish)),
    client_name: mutate(fc.oneof(text, jsonish)),
    client_uri: mutate(fc.oneof(fc.webUrl(), text), 6),
    logo_uri: mutate(fc.oneof(fc.webUrl(), text), 6),
    scope: mutate(fc.oneof(fc.constantFrom('admin', 'mcp:admin'), text, jsonish)),
    software_statement: mutate(text, 12),
    jwks_uri: mutate(fc.webUrl(), 12)
  });
  const metadata = fc.tuple(template, changes).map(([t, ch]) => applyMutations(t as Record<string, unknown>, ch));
  const body = fc.oneof(
    { weight: 8, arbitrary: metadata.map(m => ({ body: JSON.stringify(m), contentType: 'application/json' as string | undefined })) },
    { weight: 1, arbitrary: jsonish.map(v => ({ body: JSON.stringify(v), contentType: 'application/json' as string | undefined })) },
    { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 60 }), fc.constantFrom('application/json', 'text/plain', undefined)).map(([body, contentType]) => ({ body, contentType })) }
  );
  return body.chain(({ body, contentType }) => oauthHeaders(known, contentType).map(headers => ({ method: 'POST', path: '/register', headers, body })));
}

/** GET /authorize: query strings built from real and random values, and raw ones. */
export function authorizeRequest(known: Known): fc.Arbitrary<FuzzRequest> {
  const params = fc.record(
    {
      response_type: fc.oneof(fc.constantFrom('code', 'token', 'code id_token'), text),
      client_id: fc.oneof(fc.constantFrom(known.clientId, known.confidentialClientId, 'https://app.example/client.json'), text),
      redirect_uri: fc.oneof(fc.constant(known.redirectUri), fc.webUrl(), text),
      code_challenge: fc.oneof(fc.constant('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'), text),
      code_challenge_method: fc.oneof(fc.constantFrom('S256', 'plain'), text),
      scope: fc.oneof(fc.constantFrom('mcp', 'mcp offline_access', 'admin'), text),
      state: text,
      resource: fc.oneof(fc.constant(`http://localhost:${known.port}/mcp`), fc.webUrl(), text),
      request: text,
      prompt: fc.constantFrom('none', 'consent', 'login')
    },
    { requiredKeys: [] }
  );
  const query = fc.oneof(
    { weight: 6, arbitrary: params.map(p => new URLSearchParams(Object.entries(p) as Array<[string, string]>).toString()) },
    { weight: 1, arbitrary: params.map(p => new URLSearchParams([...(Object.entries(p) as Array<[string, string]>), ['client_id', known.clientId]]).toString()) },
    { weight: 1, arbitrary: rawQuery }
  );
  return fc.tuple(query, oauthHeaders(known, undefined), fc.constantFrom('GET', 'GET', 'GET', 'POST', 'HEAD')).map(([q, headers, method]) => ({ method, path: `/authorize?${q}`, headers }));
}

/** POST /authorize/consent and the demo IdP (GET and POST): live hidden fields mixed with random ones. */
export function interactionRequest(known: Known): fc.Arbitrary<FuzzRequest> {
  const field = (name: string, fields: () => Record<string, string>) => opt(fc.oneof({ weight: 3, arbitrary: live(() => fields()[name] ?? '') }, { weight: 1, arbitrary: text }));
  const consent = post(
    '/authorize/consent',
    known,
    fc.record({ interaction: field('interaction', known.consentFields), csrf_token: field('csrf_token', known.consentFields), decision: opt(fc.oneof(fc.constantFrom('approve', 'deny'), text)) })
  );
  const idpPost = post(
    '/mock-upstream-idp/authorize',
    known,
    fc.record({
      interaction: field('interaction', known.idpFields),
      csrf_token: field('csrf_token', known.idpFields),
      action: opt(fc.oneof(fc.constantFrom('select', 'create', 'cancel'), text)),
      identity: opt(fc.oneof(fc.constantFrom('alice', 'bob'), text)),
      display_name: opt(text)
    })
  );
  const idpGet = fc.tuple(fc.oneof(live(() => known.idpFields().interaction ?? ''), text), oauthHeaders(known, undefined)).map(([handle, headers]) => ({
    method: 'GET',
    path: `/mock-upstream-idp/authorize?${new URLSearchParams({ interaction: handle })}`,
    headers
  }));
  return fc.oneof(consent, idpPost, idpGet);
}
