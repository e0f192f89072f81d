/**
 * Example MCP client: the whole OAuth flow with the SDK v2 client's OAuth
 * support, then every feature of the catalogue, in both protocol eras.
 *
 *   npm run dev                                   # the server, in another terminal
 *   npm run example:client                        # opens your browser (or prints the URL)
 *   npm run example:client -- --headless          # automation: scripted consent + demo IdP
 *   npm run example:client -- --server http://localhost:3232 --identity bob --wait 15
 *
 * What happens:
 * 1. A loopback callback server starts on 127.0.0.1 (a free port): the OAuth
 *    redirect URI (RFC 8252 §7.3).
 * 2. `connect()` gets a 401; the SDK discovers the authorization server from
 *    the protected resource metadata (RFC 9728), registers this client
 *    (RFC 7591), and hands us the authorization URL (PKCE S256, `resource`).
 * 3. You approve in the browser (we try `xdg-open` / `open`, and print the
 *    URL). With --headless, this script plays the browser instead: it posts
 *    the consent form and picks a demo identity, keeping cookies like a
 *    browser. That only works with this server's demo IdP.
 * 4. The callback delivers `code`, `state`, `iss`; we check `state`, and
 *    `finishAuth` checks `iss` (RFC 9207) and exchanges the code.
 * 5. Every feature, first over 2025-11-25 (a session), then over 2026-07-28
 *    (stateless): tools (progress, images, annotations, embedded resources,
 *    links, structured output, handles, sampling, elicitation, roots, whoami,
 *    MCP App), the step-up to `mcp:admin` for adminStats (a second, shorter
 *    authorization), resources with paging, templates, prompts, completion,
 *    logging, subscriptions.
 *
 * Tokens live in memory only (a real client keeps them in the OS keychain).
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

import {
  Client,
  StreamableHTTPClientTransport,
  UnauthorizedError,
  type CallToolResult,
  type CreateMessageRequestParams,
  type ElicitRequestParams,
  type ListResourcesResult,
  type OAuthClientInformationMixed,
  type OAuthClientMetadata,
  type OAuthClientProvider,
  type OAuthDiscoveryState,
  type OAuthTokens
} from '@modelcontextprotocol/client';

const { values: opts } = parseArgs({
  options: {
    server: { type: 'string', default: process.env.MCP_SERVER_URL ?? 'http://localhost:3232' },
    headless: { type: 'boolean', default: false },
    identity: { type: 'string', default: 'alice' },
    'no-open': { type: 'boolean', default: false },
    wait: { type: 'string', default: '12' },
    help: { type: 'boolean', short: 'h' }
  }
});
if (opts.help) {
  console.log('Usage: npm run example:client -- [--server URL] [--headless] [--identity alice|bob|NAME] [--no-open] [--wait SECONDS]');
  process.exit(0);
}

const SERVER = opts.server!.replace(/\/+$/, '');
const MCP_URL = new URL(SERVER.endsWith('/mcp') ? SERVER : `${SERVER}/mcp`);
const WAIT_MS = Number(opts.wait) * 1000;

const log = (line: string) => console.log(line);
const step = (era: string, what: string, result: string) => log(`[${era}] ${what} -> ${result}`);
const texts = (r: { content?: unknown }) =>
  ((r.content as Array<{ type: string; text?: string; mimeType?: string; resource?: { uri: string }; uri?: string }>) ?? [])
    .map(b => (b.type === 'text' ? b.text : b.type === 'image' ? `[image ${b.mimeType}]` : b.type === 'resource' ? `[resource ${b.resource?.uri}]` : b.type === 'resource_link' ? `[link ${b.uri}]` : `[${b.type}]`))
    .join(' | ');

// --- 1. The loopback callback server ------------------------------------------------

interface Callback {
  redirectUrl: string;
  /** Resolves with the next callback's query. */
  next(): Promise<URLSearchParams>;
  close(): Promise<void>;
}

async function startCallbackServer(): Promise<Callback> {
  let waiting: ((q: URLSearchParams) => void) | undefined;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(url.searchParams.has('code') ? 'Signed in. You can close this window and return to the terminal.' : 'Authorization did not complete. You can close this window.');
    waiting?.(url.searchParams);
    waiting = undefined;
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    redirectUrl: `http://127.0.0.1:${port}/callback`,
    next: () => new Promise(resolve => (waiting = resolve)),
    close: () => new Promise(r => server.close(() => r()))
  };
}

// --- 2. The OAuth client provider (in-memory storage) --------------------------------

class ExampleOAuthProvider implements OAuthClientProvider {
  private info?: OAuthClientInformationMixed;
  private saved?: OAuthTokens;
  private verifier?: string;
  private discovery?: OAuthDiscoveryState;
  lastState?: string;
  /** Set by the SDK when the user must go to the authorization server. */
  pendingAuthorization?: URL;

  constructor(readonly redirectUrl: string) {}

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'MCP reference server example client',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native'
    } as OAuthClientMetadata;
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
    log(`registered OAuth client ${info.client_id} (dynamic client registration)`);
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
    log(`tokens received: scope "${tokens.scope ?? ''}", expires in ${tokens.expires_in ?? '?'} s, refresh token ${tokens.refresh_token ? 'yes' : 'no'}`);
  }
  state() {
    this.lastState = crypto.randomUUID();
    return this.lastState;
  }
  redirectToAuthorization(url: URL) {
    this.pendingAuthorization = url;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    if (!this.verifier) throw new Error('no PKCE verifier saved');
    return this.verifier;
  }
  saveDiscoveryState(state: OAuthDiscoveryState) {
    this.discovery = state;
  }
  discoveryState() {
    return this.discovery;
  }
}

// --- 3. The person at the browser ------------------------------------------------------

function tryOpenBrowser(url: string): void {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? null : 'xdg-open';
  if (!opener || opts['no-open'] || (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY)) return;
  try {
    const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined); // not installed: the printed URL is enough
    child.unref();
  } catch {
    // ignore: the URL is printed
  }
}

/** --headless: what a person does on this server's consent and demo IdP pages, over plain HTTP with a cookie jar. */
async function scriptedConsent(authorizationUrl: URL, identity: string): Promise<void> {
  const cookies = new Map<string, string>();
  const request = async (url: string, form?: Record<string, string>) => {
    const headers: Record<string, string> = {};
    if (cookies.size) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, { method: form ? 'POST' : 'GET', headers, body: form ? new URLSearchParams(form).toString() : undefined, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    return res;
  };
  const decode = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const hidden = (page: string) => Object.fromEntries([...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map(m => [m[1]!, decode(m[2]!)]));

  const consent = await request(authorizationUrl.href);
  const consentPage = await consent.text();
  if (consent.status !== 200) throw new Error(`consent page: HTTP ${consent.status}`);
  log('  (headless) consent page shown: approving');
  const approved = await request(new URL('/authorize/consent', authorizationUrl).href, { ...hidden(consentPage), decision: 'approve' });
  const idpUrl = new URL(approved.headers.get('location') ?? '', authorizationUrl).href;
  const idp = await request(idpUrl);
  const idpPage = await idp.text();
  const known = [...idpPage.matchAll(/name="identity" value="([^"]+)"/g)].map(m => m[1]);
  log(`  (headless) demo IdP: signing in as ${identity}`);
  const choice: Record<string, string> = known.includes(identity) ? { action: 'select', identity } : { action: 'create', display_name: identity };
  const signedIn = await request(new URL('/mock-upstream-idp/authorize', authorizationUrl).href, { ...hidden(idpPage), ...choice });
  const location = signedIn.headers.get('location');
  if (signedIn.status !== 303 || !location) throw new Error(`demo IdP: HTTP ${signedIn.status}`);
  // The browser would now load the redirect URI: our callback server.
  await (await fetch(location)).text();
}

// --- 4. Authorization, from the SDK's redirect to the token ------------------------

async function authorize(provider: ExampleOAuthProvider, callback: Callback): Promise<void> {
  const url = provider.pendingAuthorization;
  if (!url) throw new Error('the server refused us, but the SDK did not start an authorization');
  provider.pendingAuthorization = undefined;
  log(`authorization needed (scope "${url.searchParams.get('scope') ?? ''}"). Open this URL to sign in:\n\n  ${url.href}\n`);
  const arrived = callback.next();
  if (opts.headless) await scriptedConsent(url, opts.identity!);
  else tryOpenBrowser(url.href);
  const params = await arrived;
  if (params.get('error')) throw new Error(`authorization failed: ${params.get('error')}`); // never render error_description
  if (params.get('state') !== provider.lastState) throw new Error('state mismatch: ignoring this callback');
  log(`callback received (code, state, iss=${params.get('iss')})`);
  // finishAuth checks iss (RFC 9207) and exchanges the code (PKCE verifier, resource).
  await new StreamableHTTPClientTransport(MCP_URL, { authProvider: provider }).finishAuth(params);
}

// --- 5. Clients for each era ---------------------------------------------------------

type Era = '2025-11-25' | '2026-07-28';

interface Session {
  era: Era;
  client: Client;
  logs: string[];
  updates: string[];
}

async function connect(era: Era, provider: ExampleOAuthProvider, callback: Callback): Promise<Session> {
  for (let attempt = 0; ; attempt++) {
    const session: Session = {
      era,
      logs: [],
      updates: [],
      client: new Client(
        { name: 'reference-example-client', version: '1.0.0' },
        {
          capabilities: { sampling: { tools: {} }, elicitation: { form: {}, url: {} }, roots: { listChanged: true } },
          versionNegotiation: { mode: era === '2026-07-28' ? { pin: '2026-07-28' } : 'legacy' }
        }
      )
    };
    const { client } = session;
    client.setRequestHandler('sampling/createMessage', async request => {
      const p = request.params as CreateMessageRequestParams;
      if (p.tools?.length) {
        step(era, '  server asked us to sample (with tools)', `we call ${p.tools[0]!.name}`);
        return { model: 'example-model', role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: p.tools[0]!.name, input: { city: 'Paris' } }], stopReason: 'toolUse' };
      }
      const last = p.messages.at(-1)?.content;
      const prompt = last && !Array.isArray(last) && last.type === 'text' ? last.text : '';
      step(era, '  server asked us to sample', JSON.stringify(prompt));
      return { model: 'example-model', role: 'assistant', content: { type: 'text', text: `An example answer to: ${prompt}` }, stopReason: 'endTurn' };
    });
    client.setRequestHandler('elicitation/create', async request => {
      const p = request.params as ElicitRequestParams;
      if (p.mode === 'url') {
        step(era, '  server asked us to open a URL', p.url);
        return { action: 'accept' };
      }
      const props = (p.requestedSchema as { properties: Record<string, { type?: string; enum?: string[]; oneOf?: Array<{ const: string }>; format?: string; items?: { enum?: string[]; anyOf?: Array<{ const: string }> } }> }).properties;
      const content: Record<string, unknown> = {};
      for (const [name, s] of Object.entries(props)) {
        if (s.type === 'string') content[name] = s.enum?.[0] ?? s.oneOf?.[0]?.const ?? (s.format === 'email' ? 'alice@example.com' : s.format === 'uri' ? 'https://example.com' : s.format === 'date' ? '1990-04-01' : s.format === 'date-time' ? '2030-01-02T10:30:00Z' : 'Alice Example');
        else if (s.type === 'integer') content[name] = 42;
        else if (s.type === 'number') content[name] = 3.5;
        else if (s.type === 'boolean') content[name] = true;
        else if (s.type === 'array') content[name] = s.items?.enum?.slice(0, 1) ?? s.items?.anyOf?.slice(0, 1).map(o => o.const) ?? [];
      }
      step(era, '  server asked us to fill a form', `${Object.keys(content).length} field(s): ${p.message}`);
      return { action: 'accept', content: content as Record<string, string> };
    });
    client.setRequestHandler('roots/list', async () => ({ roots: [{ uri: 'file:///home/example/project', name: 'Example project' }] }));
    client.setNotificationHandler('notifications/message', async n => void session.logs.push(`${n.params.level}: ${String(n.params.data)}`));
    client.setNotificationHandler('notifications/resources/updated', async n => void session.updates.push(n.params.uri));

    try {
      await client.connect(new StreamableHTTPClientTransport(MCP_URL, { authProvider: provider }));
      return session;
    } catch (err) {
      if (!(err instanceof UnauthorizedError) || attempt > 1) throw err;
      await authorize(provider, callback);
    }
  }
}

/** Calls a tool; when the server asks for more scope (403 insufficient_scope), runs the step-up and retries once on a new connection. */
async function callWithStepUp(s: Session, provider: ExampleOAuthProvider, callback: Callback, name: string, args: Record<string, unknown>): Promise<{ result: CallToolResult; session: Session }> {
  try {
    return { result: (await s.client.callTool({ name, arguments: args })) as CallToolResult, session: s };
  } catch (err) {
    if (!provider.pendingAuthorization) throw err;
    step(s.era, `tools/call ${name}`, 'HTTP 403 insufficient_scope: step-up authorization');
    await authorize(provider, callback);
    await s.client.close().catch(() => undefined);
    const again = await connect(s.era, provider, callback);
    return { result: (await again.client.callTool({ name, arguments: args })) as CallToolResult, session: again };
  }
}

/** Conformance-suite fixtures: named test_* or described "[conformance fixture] …". */
const isFixture = (x: { name: string; description?: string }) => x.name.startsWith('test_') || Boolean(x.description?.startsWith('[conformance fixture]'));

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

// --- 6. Every feature ------------------------------------------------------------------

async function exercise(era: Era, provider: ExampleOAuthProvider, callback: Callback): Promise<void> {
  log(`\n=== ${era} ${era === '2026-07-28' ? '(stateless, per-request _meta)' : '(Streamable HTTP session)'} ===`);
  let s = await connect(era, provider, callback);
  const c = () => s.client;
  step(era, 'connected', `protocol ${c().getNegotiatedProtocolVersion()}, server ${c().getServerVersion()?.name} ${c().getServerVersion()?.version}`);
  const call = async (name: string, args: Record<string, unknown> = {}) => (await c().callTool({ name, arguments: args })) as CallToolResult;

  const tools = (await c().listTools()).tools;
  step(era, 'tools/list', `${tools.length} tools: ${tools.filter(t => !isFixture(t)).map(t => t.name).join(', ')} (+ ${tools.filter(isFixture).length} conformance fixtures)`);
  step(era, 'tools/call echo', texts(await call('echo', { message: 'hello from the example client' })));
  step(era, 'tools/call add', texts(await call('add', { a: 2, b: 3 })));
  const progress: string[] = [];
  const long = (await c().callTool({ name: 'longRunningOperation', arguments: { duration: 0.6, steps: 3 } }, { onprogress: p => void progress.push(`${p.progress}/${p.total}`) })) as CallToolResult;
  step(era, 'tools/call longRunningOperation', `${texts(long)} progress: ${progress.join(' ') || '(none)'}`);
  step(era, 'tools/call getTinyImage', texts(await call('getTinyImage')));
  step(era, 'tools/call annotatedMessage', texts(await call('annotatedMessage', { messageType: 'success' })));
  step(era, 'tools/call getResourceReference', texts(await call('getResourceReference', { resourceId: 7 })));
  step(era, 'tools/call getResourceLinks', texts(await call('getResourceLinks', { count: 2 })));
  step(era, 'tools/call structuredContent', JSON.stringify((await call('structuredContent', { location: 'Paris' })).structuredContent));
  step(era, 'tools/call getPrimes', JSON.stringify((await call('getPrimes', { count: 5 })).structuredContent));
  const created = await call('createCounter', { start: 41, label: 'example' });
  const counterId = (created.structuredContent as { counterId: string }).counterId;
  await call('incrementCounter', { counterId });
  step(era, 'tools/call createCounter/incrementCounter/getCounter', JSON.stringify((await call('getCounter', { counterId })).structuredContent));
  step(era, 'tools/call sampleLLM', texts(await call('sampleLLM', { prompt: 'What is MCP?', maxTokens: 50 })));
  step(era, 'tools/call sampleLLMWithTools', texts(await call('sampleLLMWithTools', { prompt: 'Weather in Paris?' })));
  step(era, 'tools/call startElicitation', texts(await call('startElicitation')));
  step(era, 'tools/call elicitUrl', texts(await call('elicitUrl')));
  step(era, 'tools/call listRoots', texts(await call('listRoots')));
  step(era, 'tools/call whoami', texts(await call('whoami')));
  step(era, 'tools/call showPrimesApp', texts(await call('showPrimesApp', { count: 5 })));
  const app = await c().readResource({ uri: 'ui://reference-server/primes-app.html' });
  step(era, 'resources/read ui://reference-server/primes-app.html', `${app.contents[0]?.mimeType}, ${'text' in app.contents[0]! ? String(app.contents[0].text).length : 0} characters of HTML`);
  const admin = await callWithStepUp(s, provider, callback, 'adminStats', {});
  s = admin.session;
  step(era, 'tools/call adminStats', texts(admin.result).slice(0, 120));

  // Resources, with paging: walk the pages by hand (resources/list with a cursor), then let the SDK aggregate.
  let cursor: string | undefined;
  let pages = 0;
  let total = 0;
  do {
    const page = (await c().request({ method: 'resources/list', params: cursor ? { cursor } : {} })) as ListResourcesResult;
    pages++;
    total += page.resources.length;
    cursor = page.nextCursor;
  } while (cursor && pages < 50);
  step(era, 'resources/list (cursor by cursor)', `${total} resources in ${pages} pages`);
  step(era, 'resources/list (SDK aggregates the pages)', `${(await c().listResources()).resources.length} resources`);
  const templates = (await c().listResourceTemplates()).resourceTemplates;
  step(era, 'resources/templates/list', templates.map(t => t.uriTemplate).join(', '));
  const one = (await c().readResource({ uri: 'test://static/resource/1' })).contents[0]!;
  const two = (await c().readResource({ uri: 'test://static/resource/2' })).contents[0]!;
  step(era, 'resources/read test://static/resource/1', 'text' in one ? String(one.text) : '(blob)');
  step(era, 'resources/read test://static/resource/2', 'blob' in two ? `blob: ${Buffer.from(String(two.blob), 'base64').toString()}` : '(text)');

  // Prompts and completion.
  const prompts = (await c().listPrompts()).prompts;
  step(era, 'prompts/list', `${prompts.filter(p => !isFixture(p)).map(p => p.name).join(', ')} (+ ${prompts.filter(isFixture).length} conformance fixtures)`);
  step(era, 'prompts/get simple_prompt', texts({ content: [(await c().getPrompt({ name: 'simple_prompt' })).messages[0]!.content] }));
  step(era, 'prompts/get complex_prompt', texts({ content: [(await c().getPrompt({ name: 'complex_prompt', arguments: { temperature: '0.7', style: 'formal' } })).messages[0]!.content] }));
  step(era, 'prompts/get resource_prompt', `${(await c().getPrompt({ name: 'resource_prompt', arguments: { resourceId: '3' } })).messages.length} messages`);
  const styles = await c().complete({ ref: { type: 'ref/prompt', name: 'complex_prompt' }, argument: { name: 'style', value: 'f' } });
  step(era, 'completion/complete complex_prompt.style "f"', styles.completion.values.join(', '));
  const ids = await c().complete({ ref: { type: 'ref/resource', uri: 'test://static/resource/{id}' }, argument: { name: 'id', value: '9' } });
  step(era, 'completion/complete resource id "9"', ids.completion.values.join(', '));

  // Logging and subscriptions: the server sends updates for followed resources periodically.
  const uri = 'test://static/resource/1';
  if (era === '2026-07-28') {
    const sub = await c().listen({ resourceSubscriptions: [uri], toolsListChanged: true });
    step(era, 'subscriptions/listen', `honoured filter ${JSON.stringify(sub.honoredFilter)}`);
    const until = Date.now() + WAIT_MS;
    while (!s.updates.includes(uri) && Date.now() < until) await sleep(100);
    step(era, 'notifications/resources/updated', s.updates.includes(uri) ? `received for ${uri}` : `none within ${WAIT_MS / 1000} s`);
    await sub.close();
  } else {
    await c().setLoggingLevel('info');
    await c().subscribeResource({ uri });
    step(era, 'logging/setLevel info + resources/subscribe', uri);
    const until = Date.now() + WAIT_MS;
    while (!s.updates.includes(uri) && Date.now() < until) await sleep(100);
    step(era, 'notifications/resources/updated', s.updates.includes(uri) ? `received for ${uri}` : `none within ${WAIT_MS / 1000} s`);
    await c().unsubscribeResource({ uri });
    step(era, 'notifications/message', `${s.logs.length} log message(s)${s.logs[0] ? `, first: ${s.logs[0]}` : ''}`);
  }
  await c().close();
}

// --- main ------------------------------------------------------------------------------

// A server that is not running is the usual first stumble: say so, rather than "fetch failed".
try {
  await fetch(new URL('/health', MCP_URL), { signal: AbortSignal.timeout(10_000) });
} catch (err) {
  const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err instanceof Error ? err.message : String(err));
  console.error(
    `Cannot reach the server at ${MCP_URL.origin} (${cause}). Start it first, in another terminal: npm run dev ` +
      `(or npm run quickstart); for another address pass --server URL or set MCP_SERVER_URL.`
  );
  process.exit(1);
}

const callback = await startCallbackServer();
const provider = new ExampleOAuthProvider(callback.redirectUrl);
log(`MCP server: ${MCP_URL.href}\ncallback:   ${callback.redirectUrl}${opts.headless ? '\nmode:       --headless (scripted consent and demo IdP)' : ''}`);
try {
  await exercise('2025-11-25', provider, callback);
  await exercise('2026-07-28', provider, callback);
  log('\nDone: every feature exercised in both eras.');
} catch (err) {
  console.error(`\nexample client failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await callback.close();
}
