/**
 * End-to-end helpers: an in-memory OAuth client provider for the SDK v2
 * client, the consent + demo IdP pages driven in headless Chromium, the
 * server as a separate process (external mode), and small HTTP helpers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

import type {
  OAuthClientMetadata,
  OAuthClientProvider,
  OAuthDiscoveryState,
  StoredOAuthClientInformation,
  StoredOAuthTokens
} from '@modelcontextprotocol/client';
import type { Browser } from 'playwright-core';

/** OAuth client state kept in memory; records what the SDK did, for assertions. */
export class TestOAuthProvider implements OAuthClientProvider {
  readonly authorizationUrls: URL[] = [];
  readonly savedTokens: StoredOAuthTokens[] = [];
  info?: StoredOAuthClientInformation;
  lastState?: string;
  private verifier?: string;
  private discovery?: OAuthDiscoveryState;

  constructor(
    readonly redirectUrl: string,
    /** A client ID metadata document URL to use as client_id instead of registering. */
    private readonly metadataDocumentClientId?: string
  ) {
    if (metadataDocumentClientId) this.info = { client_id: metadataDocumentClientId };
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'E2E test client',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native'
    } as OAuthClientMetadata;
  }
  clientInformation(ctx?: { issuer: string }) {
    // A metadata-document client_id is valid at any AS: stamp it with the one asking (SEP-2352).
    if (this.metadataDocumentClientId && this.info && !this.info.issuer && ctx) this.info = { ...this.info, issuer: ctx.issuer };
    return this.info;
  }
  saveClientInformation(info: StoredOAuthClientInformation) {
    this.info = info;
  }
  tokens() {
    return this.savedTokens.at(-1);
  }
  saveTokens(tokens: StoredOAuthTokens) {
    this.savedTokens.push(tokens);
  }
  state() {
    this.lastState = crypto.randomUUID();
    return this.lastState;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrls.push(url);
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    if (!this.verifier) throw new Error('no code verifier');
    return this.verifier;
  }
  saveDiscoveryState(state: OAuthDiscoveryState) {
    this.discovery = state;
  }
  discoveryState() {
    return this.discovery;
  }
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery') {
    if (scope === 'all' || scope === 'tokens') this.savedTokens.length = 0;
    if ((scope === 'all' || scope === 'client') && !this.metadataDocumentClientId) this.info = undefined;
    if (scope === 'all' || scope === 'verifier') this.verifier = undefined;
    if (scope === 'all' || scope === 'discovery') this.discovery = undefined;
  }
}

export { launchChromium as launchBrowser } from '../helpers/browser.js';

/**
 * Plays the person at the browser: opens the authorization URL, approves on
 * the consent page, continues as the pre-selected demo identity (or creates
 * `identityName`), and returns the redirect to the client's callback (never
 * loaded: intercepted).
 */
export async function approveInBrowser(browser: Browser, authorizationUrl: URL, redirectUri: string, options: { identityName?: string } = {}): Promise<URL> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    let callback: string | undefined;
    await page.route(
      url => url.href.startsWith(redirectUri),
      route => {
        callback = route.request().url();
        return route.fulfill({ status: 200, contentType: 'text/plain', body: 'You can close this window.' });
      }
    );
    await page.goto(authorizationUrl.href);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(u => u.pathname.startsWith('/mock-upstream-idp'));
    if (options.identityName) {
      await page.locator('input[name="display_name"]').fill(options.identityName);
      await page.getByRole('button', { name: 'Create and continue' }).click();
    } else {
      await page.getByRole('button', { name: /Continue as selected identity/ }).click();
    }
    await page.waitForURL(u => u.href.startsWith(redirectUri));
    if (!callback) throw new Error('the authorization server did not redirect to the client');
    return new URL(callback);
  } finally {
    await context.close();
  }
}

/** A server process (`node --import tsx src/index.ts`) with its env; resolves once it logged "listening". */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  logs: string[];
  stop(): Promise<void>;
}

export async function startServerProcess(env: Record<string, string>, timeoutMs = 30_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  const logs: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms:\n${logs.join('\n')}`)), timeoutMs);
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', line => {
        logs.push(line);
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.url && /listening/.test(entry.msg ?? '')) {
            clearTimeout(timer);
            resolve(entry.url);
          }
        } catch {
          // not a JSON log line
        }
      });
    }
    child.once('exit', code => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${logs.join('\n')}`));
    });
  });
  return {
    url,
    child,
    logs,
    stop: () =>
      new Promise<void>(resolve => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 8000).unref();
      })
  };
}

/** Retries `fn` until it stops throwing or the time is up. */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 10_000, stepMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise(r => setTimeout(r, stepMs));
    }
  }
}

/** A minimal MCP POST, enough to reach the bearer gate (the gate answers before MCP parsing). */
export function rawMcpPost(mcpUrl: string, token?: string): Promise<Response> {
  return fetch(mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {})
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} })
  });
}
