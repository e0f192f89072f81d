/**
 * Our server (internal mode, port chosen up front so the provider can know
 * our redirect URI) signing people in at the test OpenID provider
 * (panva's oidc-provider in its own process).
 */
import type { Browser, Page } from 'playwright-core';

import { freePort } from '../helpers/free-port.js';
import { startTestProvider, type TestProvider } from '../helpers/oidc-provider/index.js';
import { startAs, type TestAs } from '../auth/server.js';

export const TOKEN_KEY = Buffer.alloc(32, 42).toString('base64url');

export interface FederatedSetup {
  op: TestProvider;
  as: TestAs;
  close(): Promise<void>;
}

export async function startFederated(env: Record<string, string> = {}): Promise<FederatedSetup> {
  const port = await freePort();
  const op = await startTestProvider({ redirectUris: [`http://localhost:${port}/upstream-idp/callback`] });
  let as: TestAs;
  try {
    as = await startAs({ AUTH_MODE: 'internal', PORT: String(port), UPSTREAM_TOKEN_KEY: TOKEN_KEY, UPSTREAM_TIMEOUT: '3', ...op.env(), ...env });
  } catch (err) {
    await op.stop();
    throw err;
  }
  return {
    op,
    as,
    close: async () => {
      await as.close();
      await op.stop();
    }
  };
}

/**
 * In headless Chromium: our consent page (Approve), then the provider's page
 * (`atProvider` signs in there), until the provider sends the browser back
 * through our callback to the MCP client's `redirect`; resolves with that URL.
 */
export async function signInInBrowser(
  browser: Browser,
  authorizationUrl: URL,
  redirect: string,
  providerOrigin: string,
  atProvider: (page: Page) => Promise<void>
): Promise<URL> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    let callback: string | undefined;
    await page.route(
      url => url.href.startsWith(redirect),
      route => {
        callback = route.request().url();
        return route.fulfill({ status: 200, contentType: 'text/plain', body: 'You can close this window.' });
      }
    );
    await page.goto(authorizationUrl.href);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(u => u.origin === new URL(providerOrigin).origin);
    await atProvider(page);
    await page.waitForURL(u => u.href.startsWith(redirect));
    if (!callback) throw new Error('no redirect to the client');
    return new URL(callback);
  } finally {
    await context.close();
  }
}
