/**
 * `conformance authorization` against this server's own authorization server.
 *
 * The suite's `authorization-code-grant` scenario prints an authorization URL
 * for a person to open, and waits for the redirect on
 * `http://127.0.0.1:<port>/callback`. Here the person is the project's OAuth
 * test browser (test/helpers/oauth.ts): it opens that exact URL, approves the
 * consent page, signs in at the server's identity provider (the demo IdP, or
 * the test OpenID provider's login form when the server runs with
 * UPSTREAM_IDP=oidc), and delivers the redirect to the
 * suite's callback listener. The client is registered beforehand through
 * dynamic client registration with that redirect URI. Nothing is minted or
 * faked: the suite exchanges the code at the real token endpoint.
 */
import { existsSync } from 'node:fs';
import net from 'node:net';
import { pathToFileURL } from 'node:url';

import { runSuite, type SuiteRun } from './conformance-suite.js';
import { OAUTH_HELPER, TokenUnavailableError } from './token.js';

interface OAuthHelperModule {
  registerClient(baseUrl: string, opts: { redirectUris: string[]; clientName?: string }): Promise<{ clientId: string }>;
  OAuthBrowser: new (baseUrl: string) => {
    openConsent(url: string): Promise<{ fields: Record<string, string> }>;
    decide(fields: Record<string, string>, decision: 'approve' | 'deny'): Promise<string>;
    signIn(idpUrl: string, identity?: string): Promise<string>;
  };
  fetchMetadata(baseUrl: string): Promise<{ issuer: string; authorization_endpoint: string }>;
}

async function loadHelper(): Promise<OAuthHelperModule> {
  if (!existsSync(OAUTH_HELPER)) throw new TokenUnavailableError(`${OAUTH_HELPER} does not exist: no way to run the real OAuth flow`);
  return (await import(pathToFileURL(OAUTH_HELPER).href)) as OAuthHelperModule;
}

/** The authorization server protecting `mcpUrl`, read from its protected resource metadata (RFC 9728). */
export async function authorizationServerFor(mcpUrl: string, wwwAuthenticate: string | undefined): Promise<string> {
  const named = /resource_metadata="([^"]+)"/.exec(wwwAuthenticate ?? '')?.[1];
  const prmUrl = named ?? `${new URL(mcpUrl).origin}/.well-known/oauth-protected-resource${new URL(mcpUrl).pathname}`;
  const res = await fetch(prmUrl);
  if (!res.ok) throw new Error(`protected resource metadata ${prmUrl}: HTTP ${res.status}`);
  const prm = (await res.json()) as { authorization_servers?: string[] };
  const as = prm.authorization_servers?.[0];
  if (!as) throw new Error(`protected resource metadata ${prmUrl} names no authorization server`);
  return as.replace(/\/+$/, '');
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface AuthorizationRunOptions {
  issuer: string;
  /** RFC 8707 resource the suite asks a token for (the MCP endpoint). */
  resource: string;
  outDir: string;
  identity?: string;
  echo?: boolean;
  log?: (msg: string) => void;
}

export interface AuthorizationRun extends SuiteRun {
  clientId: string;
  /** Set when the browser part of the flow went wrong (the suite then reports a failing or timed-out check). */
  browserProblem?: string;
}

export async function runAuthorizationScenarios(options: AuthorizationRunOptions): Promise<AuthorizationRun> {
  const helper = await loadHelper();
  const metadata = await helper.fetchMetadata(options.issuer);
  const port = await freeLoopbackPort();
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  const { clientId } = await helper.registerClient(options.issuer, { redirectUris: [redirectUri], clientName: 'MCP conformance suite (authorization scenarios)' });
  options.log?.(`registered client ${clientId} (redirect ${redirectUri}) for the authorization-code-grant scenario`);

  let browserProblem: string | undefined;
  let browsing: Promise<void> | undefined;
  const approve = async (url: string) => {
    const browser = new helper.OAuthBrowser(options.issuer);
    const { fields } = await browser.openConsent(url);
    const idp = await browser.decide(fields, 'approve');
    const callback = await browser.signIn(idp, options.identity ?? 'alice');
    if (!callback.startsWith(`${redirectUri}?`)) throw new Error(`the authorization server redirected to ${callback.split('?')[0]}, not ${redirectUri}`);
    // Deliver the redirect to the suite's callback listener, as a browser would.
    const res = await fetch(callback);
    await res.text();
  };

  const run = await runSuite({
    command: 'authorization',
    url: options.issuer,
    extraArgs: ['--client-id', clientId, '--port', String(port), '--resource', options.resource],
    outDir: options.outDir,
    label: 'authorization',
    runTimeoutMs: 6 * 60_000, // the suite itself waits 5 minutes for the callback
    echo: options.echo,
    onLine: line => {
      const trimmed = line.trim();
      if (!browsing && trimmed.startsWith(`${metadata.authorization_endpoint}?`)) {
        options.log?.('the suite asks a person to open the authorization URL: approving it through the consent page and the demo IdP');
        browsing = approve(trimmed).catch(err => {
          browserProblem = err instanceof Error ? err.message : String(err);
          options.log?.(`browser step failed: ${browserProblem}`);
        });
      }
    }
  });
  await browsing;
  return { ...run, clientId, browserProblem };
}
